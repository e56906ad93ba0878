"""Client for fake_imds.py: start the fake, script events, inject faults, read what the agent did.

Python standard library only, so any test (unittest, benchmark, demo script) can import it:

    sys.path.insert(0, "<repo>/tests/fakes")
    from imds_control import FakeImds

    with FakeImds.start(vm_name="aks-spot-1") as imds:      # subprocess on a free port
        agent_config = {"imds": {"endpoint": imds.url}}        # http://127.0.0.1:PORT
        ev = imds.add_event("Preempt", not_before_in=30)
        imds.wait_for(lambda: imds.acks(), timeout=20, what="agent acknowledgement")
        other = imds.vm("aks-spot-2")                          # endpoint: other.url = .../vm/aks-spot-2

Every method raises ControlError when the fake answers with an error.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from typing import Any, Callable, Optional

from fake_process import spawn_listening

FAKE_IMDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_imds.py")
SCHEDULED_EVENTS_PATH = "/metadata/scheduledevents?api-version=2020-07-01"
INSTANCE_PATH = "/metadata/instance?api-version=2021-02-01"


class ControlError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"fake IMDS answered {status}: {body}")
        self.status = status
        self.body = body


class ImdsControl:
    """The control API of one VM of a running fake (the default VM unless vm_name is given)."""

    def __init__(self, base_url: str, vm_name: Optional[str] = None, timeout: float = 10.0):
        parsed = urllib.parse.urlsplit(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.root = f"http://{self.host}:{self.port}"
        self.vm_name = vm_name
        self.prefix = f"/vm/{urllib.parse.quote(vm_name, safe='')}" if vm_name else ""
        self.timeout = timeout

    # -- addressing -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What to put in the agent's imds.endpoint for this VM."""
        return self.root + self.prefix

    def vm(self, name: str) -> "ImdsControl":
        """Control of another VM served by the same fake (created on first use)."""
        return ImdsControl(self.root, name, self.timeout)

    # -- raw HTTP ---------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
                raw_body: Optional[bytes] = None, timeout: Optional[float] = None) -> tuple[int, dict, bytes]:
        """One HTTP request on a fresh connection; returns (status, headers, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        try:
            data = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode())
            hdrs = dict(headers or {})
            if data is not None:
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        finally:
            conn.close()

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        status, _, payload = self.request(method, f"{self.prefix}/fake{path}", body)
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = payload.decode("utf-8", "replace")
        if status >= 300:
            raise ControlError(status, doc)
        return doc

    # -- what the agent sees ----------------------------------------------------------

    def imds_get(self, path: str = SCHEDULED_EVENTS_PATH, headers: Optional[dict] = None) -> tuple[int, Any]:
        """GET an IMDS path as a well-behaved client would; returns (status, parsed JSON or text)."""
        hdrs = {"Metadata": "true"} if headers is None else headers
        status, resp_headers, payload = self.request("GET", self.prefix + path, headers=hdrs)
        if resp_headers.get("content-type", "").startswith("application/json") and payload:
            try:
                return status, json.loads(payload)
            except ValueError:
                pass
        return status, payload.decode("utf-8", "replace")

    def scheduled_events(self) -> dict:
        status, doc = self.imds_get()
        if status != 200:
            raise ControlError(status, doc)
        return doc

    def approve(self, *event_ids: str) -> int:
        """POST StartRequests like the agent does; returns the HTTP status."""
        body = {"StartRequests": [{"EventId": e} for e in event_ids]}
        status, _, _ = self.request("POST", self.prefix + SCHEDULED_EVENTS_PATH, body, headers={"Metadata": "true"})
        return status

    # -- events -----------------------------------------------------------------------

    def add_event(self, event_type: str = "Preempt", *, not_before_in: Optional[float] = None,
                  not_before: Optional[str] = None, resources: Optional[list] = None,
                  status: Optional[str] = None, event_id: Optional[str] = None, **fields: Any) -> dict:
        """Schedule an event. fields take IMDS names (Description, DurationInSeconds, EventSource,
        DeliverTo, TimeFormat, EndAfterMs, AutoStart, Raw). Returns the event as the fake stores it."""
        spec: dict[str, Any] = {"EventType": event_type, **fields}
        if not_before_in is not None:
            spec["NotBeforeIn"] = not_before_in
        if not_before is not None:
            spec["NotBefore"] = not_before
        if resources is not None:
            spec["Resources"] = resources
        if status is not None:
            spec["EventStatus"] = status
        if event_id is not None:
            spec["EventId"] = event_id
        return self._control("POST", "/events", spec)

    def events(self) -> dict:
        """{"DocumentIncarnation", "Events": [...with bookkeeping...]} of this VM."""
        return self._control("GET", "/events")

    def event(self, event_id: str) -> dict:
        return self._control("GET", f"/events/{urllib.parse.quote(event_id)}")

    def update_event(self, event_id: str, **fields: Any) -> dict:
        """Change fields, e.g. update_event(id, NotBeforeIn=5) (Azure moves NotBefore)."""
        return self._control("PUT", f"/events/{urllib.parse.quote(event_id)}", fields)

    def start_event(self, event_id: str) -> dict:
        """Make the platform start the event (Started, NotBefore "")."""
        return self._control("POST", f"/events/{urllib.parse.quote(event_id)}/start")

    def replace_event(self, event_id: str, new_id: Optional[str] = None) -> dict:
        """Re-issue the event under a new EventId, keeping everything else."""
        return self._control("POST", f"/events/{urllib.parse.quote(event_id)}/replace",
                             {"EventId": new_id} if new_id else {})

    def delete_event(self, event_id: str) -> None:
        """The event ends (or is cancelled): it disappears from the document."""
        self._control("DELETE", f"/events/{urllib.parse.quote(event_id)}")

    def clear(self) -> None:
        """Remove every event this VM sees."""
        self._control("DELETE", "/events")

    # -- acknowledgements -------------------------------------------------------------

    def ack_behaviour(self, end_after_ms: Optional[float] = None, auto_start: Optional[bool] = None) -> dict:
        body: dict[str, Any] = {}
        if end_after_ms is not None:
            body["endAfterMs"] = end_after_ms
        if auto_start is not None:
            body["autoStartAtNotBefore"] = auto_start
        return self._control("POST", "/ack-behaviour", body)

    def acks(self) -> list:
        """Every StartRequests POST received (applied or not), oldest first."""
        return self._control("GET", "/acks")["acks"]

    def acked_event_ids(self) -> list:
        return [eid for a in self.acks() if a.get("applied") for eid in a.get("eventIds", [])]

    # -- faults -----------------------------------------------------------------------

    def fault(self, mode: str, endpoint: str = "scheduledevents", count: int = -1, **params: Any) -> dict:
        """Inject a fault (arch/FAULTS.md), e.g. fault("status", status=503, count=3)."""
        return self._control("POST", "/fault", {"endpoint": endpoint, "mode": mode, "count": count, **params})

    def faults(self) -> list:
        return self._control("GET", "/fault")["faults"]

    def clear_faults(self, fault_id: Optional[str] = None) -> int:
        path = "/fault" + (f"/{fault_id}" if fault_id else "")
        return self._control("DELETE", path)["cleared"]

    # -- observation ------------------------------------------------------------------

    def requests(self, since: Optional[float] = None, endpoint: Optional[str] = None) -> list:
        """IMDS requests received by this VM: {t_mono, t_wall, method, path, query, headers, status, ...}.
        t_mono is CLOCK_MONOTONIC, comparable with time.monotonic() in the test process."""
        query = {}
        if since is not None:
            query["since"] = repr(since)
        if endpoint:
            query["endpoint"] = endpoint
        suffix = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self._control("GET", "/requests" + suffix)["requests"]

    def clear_requests(self) -> None:
        self._control("DELETE", "/requests")

    def stats(self) -> dict:
        return self._control("GET", "/stats")

    def settings(self, **changes: Any) -> dict:
        """Read or change settings: timeFormat, rateLimitPerSecond, endAfterMs, autoStartAtNotBefore,
        firstCallDelayMs, requestLogSize, DocumentIncarnation, applyToAllVms."""
        if not changes:
            return self._control("GET", "/settings")
        return self._control("PUT", "/settings", changes)

    def instance(self, **merge: Any) -> dict:
        """Read, or deep-merge into, the instance document (None deletes a key)."""
        if not merge:
            return self._control("GET", "/instance")
        return self._control("PUT", "/instance", merge)

    def reset(self) -> None:
        """On the default VM: the whole fake back to its start state. On /vm/X: only VM X."""
        self._control("POST", "/reset")

    def health(self) -> bool:
        try:
            return bool(self._control("GET", "/health").get("ok"))
        except (OSError, ControlError):
            return False

    # -- waiting ----------------------------------------------------------------------

    @staticmethod
    def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
                 what: str = "condition") -> Any:
        """Poll predicate until it returns something truthy; return that, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        last_exc: Optional[BaseException] = None
        while True:
            try:
                result = predicate()
                if result:
                    return result
            except (OSError, ControlError, AssertionError) as exc:
                last_exc = exc
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                                   + (f" (last error: {last_exc})" if last_exc else ""))
            time.sleep(interval)


class FakeImds(ImdsControl):
    """A fake_imds.py subprocess plus the control API of its default VM."""

    def __init__(self, proc: subprocess.Popen, port: int, vm_name: str):
        super().__init__(f"http://127.0.0.1:{port}")
        self.proc = proc
        self.default_vm = vm_name

    @classmethod
    def start(cls, vm_name: str = "aks-spot-1", *extra_args: str, computer_name: Optional[str] = None,
              rate_limit: bool = True, time_format: Optional[str] = None, startup_timeout: float = 10.0,
              verbose: bool = False) -> "FakeImds":
        """Launch the fake on a free port and wait for its LISTENING line."""
        cmd = [sys.executable, FAKE_IMDS, "--port", "0", "--vm-name", vm_name, "--exit-with-parent"]
        if computer_name:
            cmd += ["--computer-name", computer_name]
        if not rate_limit:
            cmd.append("--no-rate-limit")
        if time_format:
            cmd += ["--time-format", time_format]
        if verbose:
            cmd.append("--verbose")
        cmd += list(extra_args)
        proc, port = spawn_listening(cmd, "fake_imds", startup_timeout, verbose)
        return cls(proc, port, vm_name)

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, wait, SIGKILL if needed; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> "FakeImds":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
