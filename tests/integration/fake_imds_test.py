#!/usr/bin/env python3
"""Checks that tests/fakes/fake_imds.py behaves like the documented Azure IMDS.

The agent's integration tests trust this fake, so its behaviour is pinned here: validation,
DocumentIncarnation, the event lifecycle, per-VM routing, every fault mode of
arch/FAULTS.md, and the rate limit. Runs the fake as a subprocess on port 0, talks to it with
http.client / raw sockets. No sleeps for synchronisation: waits poll with a deadline.

    python3 tests/integration/fake_imds_test.py [-v]
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))

from imds_control import ControlError, FakeImds, ImdsControl  # noqa: E402

SE = "/metadata/scheduledevents?api-version=2020-07-01"
INSTANCE = "/metadata/instance?api-version=2021-02-01"
MD = {"Metadata": "true"}
GUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
RFC1123_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                        r"\d{2}:\d{2}:\d{2} GMT$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EVENT_KEYS = {"EventId", "EventType", "ResourceType", "Resources", "EventStatus", "NotBefore", "Description",
              "EventSource", "DurationInSeconds"}
VM = "aks-spot-1"
IMDS: FakeImds


def setUpModule() -> None:
    global IMDS
    IMDS = FakeImds.start(VM)


def tearDownModule() -> None:
    IMDS.stop()


def wait_for(predicate, timeout=10.0, what="condition"):
    return ImdsControl.wait_for(predicate, timeout=timeout, what=what)


class Base(unittest.TestCase):
    def setUp(self) -> None:
        IMDS.reset()
        # Most tests fire requests faster than 5/s; the limit has its own tests.
        IMDS.settings(applyToAllVms=True, rateLimitPerSecond=0)

    def http(self, method, path, headers=None, body=None, timeout=10.0, vm=None):
        ctl = IMDS.vm(vm) if vm else IMDS
        return ctl.request(method, ctl.prefix + path, body=body, headers=MD if headers is None else headers,
                           timeout=timeout)

    def get_json(self, path=SE, vm=None, headers=None):
        status, hdrs, body = self.http("GET", path, headers=headers, vm=vm)
        self.assertEqual(status, 200, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        return json.loads(body)

    def events(self, vm=None):
        return self.get_json(SE, vm=vm)


class ValidationTest(Base):
    def test_missing_metadata_header_is_400_with_documented_message(self):
        status, hdrs, body = self.http("GET", SE, headers={})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body), {"error": "Bad request. Required metadata header not specified"})
        self.assertEqual(int(hdrs["content-length"]), len(body))

    def test_metadata_header_must_be_true(self):
        self.assertEqual(self.http("GET", SE, headers={"Metadata": "false"})[0], 400)
        self.assertEqual(self.http("GET", SE, headers={"Metadata": "True"})[0], 200)
        self.assertEqual(self.http("GET", INSTANCE, headers={})[0], 400)

    def test_x_forwarded_for_is_rejected(self):
        status, _, body = self.http("GET", SE, headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.1"})
        self.assertEqual(status, 400)
        self.assertIn("error", json.loads(body))

    def test_api_version_missing_or_unsupported(self):
        for path in ("/metadata/scheduledevents", "/metadata/scheduledevents?api-version=2099-01-01",
                     "/metadata/instance", "/metadata/instance?api-version=2020-07-01x"):
            status, _, body = self.http("GET", path)
            self.assertEqual(status, 400, path)
            doc = json.loads(body)
            self.assertIn("api-version", doc["error"])
            self.assertTrue(doc["newest-versions"] and all(isinstance(v, str) for v in doc["newest-versions"]))
        # An instance-only version is not a Scheduled Events version.
        self.assertEqual(self.http("GET", "/metadata/scheduledevents?api-version=2021-02-01")[0], 400)

    def test_duplicate_query_parameter(self):
        self.assertEqual(self.http("GET", SE + "&api-version=2020-07-01")[0], 400)

    def test_unknown_path_is_404(self):
        for path in ("/metadata/nothing?api-version=2020-07-01", "/elsewhere", "/"):
            status, _, body = self.http("GET", path)
            self.assertEqual(status, 404, path)
            self.assertIn("error", json.loads(body))

    def test_wrong_method_is_405(self):
        self.assertEqual(self.http("PUT", SE, body={})[0], 405)
        self.assertEqual(self.http("DELETE", SE)[0], 405)
        self.assertEqual(self.http("POST", INSTANCE, body={})[0], 405)

    def test_keep_alive_and_content_length(self):
        conn = http.client.HTTPConnection(IMDS.host, IMDS.port, timeout=5)
        try:
            for path, expected in ((SE, 200), ("/metadata/scheduledevents", 400), (INSTANCE, 200), (SE, 200)):
                conn.request("GET", path, headers=MD)
                resp = conn.getresponse()
                body = resp.read()
                self.assertEqual(resp.status, expected)
                self.assertEqual(int(resp.getheader("Content-Length")), len(body))
                self.assertEqual(resp.version, 11)
                json.loads(body)
            # Still the same socket: the server kept the connection alive.
            self.assertIsNotNone(conn.sock)
        finally:
            conn.close()


class ScheduledEventsTest(Base):
    def test_empty_document(self):
        doc = self.events()
        self.assertEqual(set(doc), {"DocumentIncarnation", "Events"})
        self.assertIsInstance(doc["DocumentIncarnation"], int)
        self.assertEqual(doc["Events"], [])

    def test_event_has_documented_shape(self):
        before = time.time()
        added = IMDS.add_event("Preempt", not_before_in=30)
        (event,) = self.events()["Events"]
        self.assertEqual(set(event), EVENT_KEYS)
        self.assertEqual(event["EventId"], added["EventId"])
        self.assertRegex(event["EventId"], GUID_RE)
        self.assertEqual(event["EventType"], "Preempt")
        self.assertEqual(event["ResourceType"], "VirtualMachine")
        self.assertEqual(event["Resources"], [VM])
        self.assertEqual(event["EventStatus"], "Scheduled")
        self.assertEqual(event["EventSource"], "Platform")
        self.assertEqual(event["DurationInSeconds"], -1)
        self.assertIsInstance(event["Description"], str)
        self.assertRegex(event["NotBefore"], RFC1123_RE)
        not_before = email.utils.parsedate_to_datetime(event["NotBefore"]).timestamp()
        self.assertTrue(before + 28 <= not_before <= time.time() + 31, event["NotBefore"])

    def test_default_notice_per_type(self):
        IMDS.add_event("Reboot")
        (event,) = self.events()["Events"]
        not_before = email.utils.parsedate_to_datetime(event["NotBefore"]).timestamp()
        self.assertGreater(not_before, time.time() + 800)  # 15 min minimum notice
        self.assertEqual(event["EventSource"], "User")

    def test_incarnation_increments_only_on_change(self):
        start = self.events()["DocumentIncarnation"]
        self.assertEqual(self.events()["DocumentIncarnation"], start)
        ev = IMDS.add_event("Preempt", not_before_in=60)
        self.assertEqual(self.events()["DocumentIncarnation"], start + 1)
        self.assertEqual(self.events()["DocumentIncarnation"], start + 1)
        IMDS.update_event(ev["EventId"], NotBeforeIn=20)  # Azure moves NotBefore
        self.assertEqual(self.events()["DocumentIncarnation"], start + 2)
        IMDS.add_event("Freeze")
        self.assertEqual(self.events()["DocumentIncarnation"], start + 3)
        IMDS.delete_event(ev["EventId"])
        doc = self.events()
        self.assertEqual(doc["DocumentIncarnation"], start + 4)
        self.assertEqual([e["EventType"] for e in doc["Events"]], ["Freeze"])

    def test_iso8601_per_event_and_global(self):
        IMDS.add_event("Preempt", not_before_in=30, TimeFormat="iso8601")
        IMDS.add_event("Terminate", not_before_in=300)
        first, second = self.events()["Events"]
        self.assertRegex(first["NotBefore"], ISO_RE)
        self.assertRegex(second["NotBefore"], RFC1123_RE)
        IMDS.settings(timeFormat="iso8601")
        self.assertRegex(self.events()["Events"][1]["NotBefore"], ISO_RE)

    def test_raw_not_before_passes_through_and_never_auto_starts(self):
        IMDS.add_event("Preempt", not_before="soon-ish, maybe")
        IMDS.add_event("Preempt", not_before="")
        first, second = self.events()["Events"]
        self.assertEqual(first["NotBefore"], "soon-ish, maybe")
        self.assertEqual(second["NotBefore"], "")
        self.assertEqual(first["EventStatus"], "Scheduled")

    def test_older_api_versions_omit_newer_fields(self):
        IMDS.add_event("Preempt", not_before_in=30)
        (old,) = self.get_json("/metadata/scheduledevents?api-version=2019-01-01")["Events"]
        self.assertNotIn("Description", old)
        self.assertNotIn("EventSource", old)
        self.assertNotIn("DurationInSeconds", old)
        (mid,) = self.get_json("/metadata/scheduledevents?api-version=2019-08-01")["Events"]
        self.assertIn("EventSource", mid)
        self.assertNotIn("DurationInSeconds", mid)

    def test_started_event_has_empty_not_before(self):
        IMDS.add_event("Reboot", status="Started", EndAfterMs=-1)
        (event,) = self.events()["Events"]
        self.assertEqual(event["EventStatus"], "Started")
        self.assertEqual(event["NotBefore"], "")

    def test_replace_changes_only_the_id(self):
        ev = IMDS.add_event("Preempt", not_before_in=30)
        before = self.events()
        new = IMDS.replace_event(ev["EventId"])
        after = self.events()
        self.assertNotEqual(new["EventId"], ev["EventId"])
        self.assertEqual(after["DocumentIncarnation"], before["DocumentIncarnation"] + 1)
        old_event, new_event = dict(before["Events"][0]), dict(after["Events"][0])
        self.assertEqual(new_event.pop("EventId"), new["EventId"])
        old_event.pop("EventId")
        self.assertEqual(old_event, new_event)
        IMDS.replace_event(new["EventId"], "11111111-2222-3333-4444-555555555555")
        self.assertEqual(self.events()["Events"][0]["EventId"], "11111111-2222-3333-4444-555555555555")

    def test_not_before_passing_starts_the_event(self):
        IMDS.ack_behaviour(end_after_ms=-1)
        IMDS.add_event("Preempt", not_before_in=0.3)
        event = wait_for(lambda: [e for e in self.events()["Events"] if e["EventStatus"] == "Started"],
                         what="auto start")[0]
        self.assertEqual(event["NotBefore"], "")

    def test_auto_start_can_be_disabled(self):
        IMDS.ack_behaviour(auto_start=False)
        IMDS.add_event("Preempt", not_before_in=-5)
        self.assertEqual(self.events()["Events"][0]["EventStatus"], "Scheduled")

    def test_platform_start_then_disappears(self):
        IMDS.ack_behaviour(end_after_ms=200)
        ev = IMDS.add_event("Freeze")
        IMDS.start_event(ev["EventId"])
        self.assertEqual(self.events()["Events"][0]["EventStatus"], "Started")
        wait_for(lambda: self.events()["Events"] == [], what="event to end")

    def test_incarnation_can_be_set(self):
        IMDS.settings(DocumentIncarnation=41)
        self.assertEqual(self.events()["DocumentIncarnation"], 41)
        IMDS.add_event("Preempt")
        self.assertEqual(self.events()["DocumentIncarnation"], 42)

    def test_first_call_delay(self):
        IMDS.settings(firstCallDelayMs=300)
        t0 = time.monotonic()
        self.events()
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.events()
        # Only the first call was held (the log says which; a wall-clock bound would be flaky).
        held = [r.get("firstCallDelayMs") for r in IMDS.requests() if r.get("endpoint") == "scheduledevents"]
        self.assertEqual(held[-2:], [300.0, None])

    def test_first_call_enables_the_service_only_once_its_slow_answer_was_read(self):
        IMDS.settings(firstCallDelayMs=1500)
        host, port = urllib.parse.urlsplit(IMDS.url).hostname, urllib.parse.urlsplit(IMDS.url).port

        def call(timeout):
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                conn.request("GET", SE, headers={"Metadata": "true"})
                return conn.getresponse().status
            except socket.timeout:
                return "timeout"
            finally:
                conn.close()

        # A client that gives up first (2 s timeout in the agent, Azure's first call up to 2 min)
        # leaves the service disabled: its next call is a slow first call again.
        self.assertEqual(call(0.3), "timeout")
        wait_for(lambda: IMDS.stats()["firstCallsAbandoned"] == 1, 5, "the abandoned first call")
        self.assertFalse(IMDS.stats()["serviceEnabled"])
        self.assertEqual(call(0.3), "timeout")
        wait_for(lambda: IMDS.stats()["firstCallsAbandoned"] == 2, 5, "the second abandoned first call")
        # A patient client gets the slow answer, and the service is enabled from then on.
        self.assertEqual(call(10), 200)
        self.assertTrue(IMDS.stats()["serviceEnabled"])
        self.assertEqual(call(0.3), 200)
        calls = [r for r in IMDS.requests() if r.get("endpoint") == "scheduledevents"]
        self.assertEqual([r.get("firstCall") for r in calls[-4:]], ["abandoned", "abandoned", "answered", None])


class AcknowledgeTest(Base):
    def approve(self, *ids, headers=None, raw=None, vm=None):
        ctl = IMDS.vm(vm) if vm else IMDS
        body = raw if raw is not None else json.dumps({"StartRequests": [{"EventId": i} for i in ids]}).encode()
        status, _, payload = ctl.request("POST", ctl.prefix + SE, raw_body=body,
                                         headers=MD if headers is None else headers)
        return status, payload

    def test_lifecycle_scheduled_started_gone(self):
        IMDS.ack_behaviour(end_after_ms=300)
        ev = IMDS.add_event("Preempt", not_before_in=30)
        inc0 = self.events()["DocumentIncarnation"]
        status, _ = self.approve(ev["EventId"])
        self.assertEqual(status, 200)
        doc = self.events()
        self.assertEqual(doc["DocumentIncarnation"], inc0 + 1)
        self.assertEqual(doc["Events"][0]["EventStatus"], "Started")
        self.assertEqual(doc["Events"][0]["NotBefore"], "")
        (ack,) = IMDS.acks()
        self.assertEqual(ack["eventIds"], [ev["EventId"]])
        self.assertEqual(ack["StartRequests"], [{"EventId": ev["EventId"]}])
        self.assertTrue(ack["applied"])
        self.assertEqual(ack["status"], 200)
        final = wait_for(lambda: (lambda d: d if d["Events"] == [] else None)(self.events()), what="event gone")
        self.assertEqual(final["DocumentIncarnation"], inc0 + 2)

    def test_approving_twice_is_fine(self):
        IMDS.ack_behaviour(end_after_ms=-1)
        ev = IMDS.add_event("Preempt")
        self.assertEqual(self.approve(ev["EventId"])[0], 200)
        self.assertEqual(self.approve(ev["EventId"])[0], 200)

    def test_unknown_event_id_is_400(self):
        IMDS.add_event("Preempt")
        status, payload = self.approve("00000000-0000-0000-0000-000000000000")
        self.assertEqual(status, 400)
        self.assertIn("error", json.loads(payload))
        self.assertEqual(self.events()["Events"][0]["EventStatus"], "Scheduled")
        self.assertEqual(IMDS.acks()[-1]["status"], 400)

    def test_malformed_requests_are_400(self):
        ev = IMDS.add_event("Preempt")
        for raw in (b"not json", b"{}", b'{"StartRequests": []}', b'{"StartRequests": [{"EventId": 5}]}',
                    b'{"StartRequests": {"EventId": "x"}}', b"[]"):
            self.assertEqual(self.approve(raw=raw)[0], 400, raw)
        self.assertEqual(self.approve(ev["EventId"], headers={})[0], 400)
        self.assertEqual(self.events()["Events"][0]["EventStatus"], "Scheduled")

    def test_approval_applies_to_every_vm_in_resources(self):
        IMDS.ack_behaviour(end_after_ms=-1)
        ev = IMDS.add_event("Freeze", resources=[VM, "aks-spot-2"])
        status, _ = self.approve(ev["EventId"], vm="aks-spot-2")
        self.assertEqual(status, 200)
        self.assertEqual(self.events()["Events"][0]["EventStatus"], "Started")
        self.assertEqual(IMDS.vm("aks-spot-2").acks()[0]["eventIds"], [ev["EventId"]])
        self.assertEqual(IMDS.acks(), [])


class MultiVmTest(Base):
    def test_vms_are_isolated(self):
        other = IMDS.vm("aks-spot-2")
        other.add_event("Preempt", not_before_in=30)
        self.assertEqual(self.events()["Events"], [])
        (event,) = self.events(vm="aks-spot-2")["Events"]
        self.assertEqual(event["Resources"], ["aks-spot-2"])
        self.assertTrue(all(r["vm"] == "aks-spot-2" for r in other.requests()))
        self.assertTrue(all(r["vm"] == VM for r in IMDS.requests()))

    def test_incarnations_are_per_vm(self):
        inc_a = self.events()["DocumentIncarnation"]
        inc_b = self.events(vm="aks-spot-2")["DocumentIncarnation"]
        IMDS.vm("aks-spot-2").add_event("Preempt")
        self.assertEqual(self.events()["DocumentIncarnation"], inc_a)
        self.assertEqual(self.events(vm="aks-spot-2")["DocumentIncarnation"], inc_b + 1)

    def test_availability_set_event_reaches_every_named_vm(self):
        ev = IMDS.add_event("Freeze", resources=[VM, "aks-spot-2", "aks-spot-3"])
        for vm in (None, "aks-spot-2", "aks-spot-3"):
            self.assertEqual([e["EventId"] for e in self.events(vm=vm)["Events"]], [ev["EventId"]], vm)
        self.assertEqual(self.events(vm="aks-spot-4")["Events"], [])

    def test_event_delivered_but_naming_other_vms(self):
        # Azure delivers set-wide events to VMs that Resources does not name: the agent must ignore them.
        IMDS.add_event("Reboot", resources=["aks-spot-7"])
        (event,) = self.events()["Events"]
        self.assertEqual(event["Resources"], ["aks-spot-7"])
        self.assertEqual(self.events(vm="aks-spot-7")["Events"][0]["EventId"], event["EventId"])
        IMDS.vm("aks-spot-8").add_event("Preempt", resources=["aks-spot-7"], DeliverTo=["aks-spot-9"])
        self.assertEqual(len(self.events(vm="aks-spot-9")["Events"]), 1)

    def test_instance_document_per_vm(self):
        vmss = "aks-spot-12345678-vmss_13"
        doc = self.get_json(INSTANCE, vm=vmss)
        compute = doc["compute"]
        self.assertEqual(compute["name"], vmss)
        self.assertEqual(compute["osProfile"]["computerName"], "aks-spot-12345678-vmss00000d")
        self.assertEqual(compute["vmScaleSetName"], "aks-spot-12345678-vmss")
        self.assertTrue(compute["resourceId"].endswith("/virtualMachineScaleSets/aks-spot-12345678-vmss/virtualMachines/13"))
        default = self.get_json(INSTANCE)["compute"]
        self.assertEqual(default["name"], VM)
        self.assertEqual(default["osProfile"]["computerName"], VM)
        self.assertEqual(default["vmScaleSetName"], "")

    def test_faults_are_per_vm_unless_server_scoped(self):
        IMDS.vm("aks-spot-2").fault("status", status=500)
        self.assertEqual(self.http("GET", SE)[0], 200)
        self.assertEqual(self.http("GET", SE, vm="aks-spot-2")[0], 500)
        IMDS.fault("status", status=503, scope="server")
        self.assertEqual(self.http("GET", SE, vm="aks-spot-3")[0], 503)
        IMDS.clear_faults()
        self.assertEqual(self.http("GET", SE, vm="aks-spot-3")[0], 200)

    def test_vm_reset_only_touches_that_vm(self):
        IMDS.add_event("Preempt")
        other = IMDS.vm("aks-spot-2")
        other.add_event("Preempt")
        other.reset()
        self.assertEqual(len(self.events()["Events"]), 1)
        self.assertEqual(self.events(vm="aks-spot-2")["Events"], [])


class InstanceTest(Base):
    def leaves(self, node, path="$"):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from self.leaves(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from self.leaves(v, f"{path}[{i}]")
        else:
            yield path, node

    def test_realistic_document_all_strings(self):
        doc = self.get_json(INSTANCE)
        compute = doc["compute"]
        for key in ("name", "vmScaleSetName", "priority", "evictionPolicy", "vmSize", "zone", "location",
                    "resourceId", "subscriptionId", "resourceGroupName", "osType", "tags", "vmId"):
            self.assertIn(key, compute)
        self.assertEqual(compute["priority"], "Spot")
        self.assertEqual(compute["evictionPolicy"], "Delete")
        self.assertEqual(compute["vmSize"], "Standard_D4ps_v5")
        self.assertEqual(compute["osType"], "Linux")
        self.assertIn("interface", doc["network"])
        for path, value in self.leaves(doc):
            self.assertIsInstance(value, str, path)

    def test_older_version_lacks_priority(self):
        compute = self.get_json("/metadata/instance?api-version=2020-09-01")["compute"]
        self.assertNotIn("priority", compute)
        self.assertIn("osProfile", compute)

    def test_route_filter(self):
        status, hdrs, body = self.http("GET", "/metadata/instance/compute/name?api-version=2021-02-01&format=text")
        self.assertEqual((status, body), (200, VM.encode()))
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        self.assertEqual(self.get_json("/metadata/instance/compute/osProfile?api-version=2021-02-01")["computerName"], VM)
        self.assertEqual(self.http("GET", "/metadata/instance/compute/name?api-version=2021-02-01")[0], 400)
        self.assertEqual(self.http("GET", "/metadata/instance/compute/nope?api-version=2021-02-01")[0], 404)

    def test_overrides(self):
        IMDS.instance(compute={"priority": "", "evictionPolicy": ""})
        compute = self.get_json(INSTANCE)["compute"]
        self.assertEqual((compute["priority"], compute["evictionPolicy"]), ("", ""))


class FaultTest(Base):
    def get(self, path=SE, timeout=10.0, vm=None):
        return self.http("GET", path, timeout=timeout, vm=vm)

    def test_status_faults_have_error_bodies(self):
        for code in (400, 404, 405, 410, 429, 500, 503):
            IMDS.fault("status", status=code, count=1)
            status, hdrs, body = self.get()
            self.assertEqual(status, code)
            self.assertIsInstance(json.loads(body)["error"], str)
            self.assertEqual(self.get()[0], 200, "count=1 must fault exactly once")

    def test_count_and_until_cleared(self):
        IMDS.fault("status", status=500, count=2)
        self.assertEqual([self.get()[0] for _ in range(3)], [500, 500, 200])
        fault = IMDS.fault("status", status=503)  # default count -1: until cleared
        self.assertEqual([self.get()[0] for _ in range(3)], [503, 503, 503])
        self.assertEqual(IMDS.clear_faults(fault["id"]), 1)
        self.assertEqual(self.get()[0], 200)

    def test_faults_are_scoped_by_endpoint(self):
        IMDS.fault("status", endpoint="instance", status=500)
        self.assertEqual(self.get()[0], 200)
        self.assertEqual(self.get(INSTANCE)[0], 500)
        IMDS.clear_faults()
        IMDS.fault("status", endpoint="all", status=410)
        self.assertEqual(self.get()[0], 410)
        self.assertEqual(self.get(INSTANCE)[0], 410)

    def test_invalid_requests_do_not_consume_faults(self):
        IMDS.fault("status", status=500, count=1)
        self.assertEqual(self.http("GET", SE, headers={})[0], 400)
        self.assertEqual(self.get()[0], 500)

    def test_slow(self):
        IMDS.fault("slow", delayMs=400, count=1)
        t0 = time.monotonic()
        status, _, body = self.get()
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(status, 200)
        self.assertIn("Events", json.loads(body))

    def test_slow_dribble(self):
        IMDS.add_event("Preempt")
        IMDS.fault("slow", delayMs=300, dribble=True, count=1)
        t0 = time.monotonic()
        status, _, body = self.get()
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        self.assertEqual(len(json.loads(body)["Events"]), 1)

    def test_hang_does_not_block_other_requests_and_answers_when_cleared(self):
        IMDS.fault("hang", count=1)
        result = {}

        def hung_client():
            try:
                result["status"] = self.get(timeout=15)[0]
            except Exception as exc:  # noqa: BLE001 - report whatever happened
                result["error"] = exc

        t = threading.Thread(target=hung_client, daemon=True)
        t.start()
        wait_for(lambda: [r for r in IMDS.requests() if r["fault"] == "hang"], what="hung request to arrive")
        self.assertEqual(self.get()[0], 200)          # a parallel request is answered
        self.assertEqual(self.get(INSTANCE)[0], 200)
        self.assertTrue(t.is_alive(), "the hung request must still be waiting")
        IMDS.clear_faults()
        t.join(10)
        self.assertEqual(result, {"status": 200})

    def test_hang_notices_client_leaving(self):
        IMDS.fault("hang", count=1)
        with self.assertRaises(socket.timeout):
            self.get(timeout=0.3)
        entry = wait_for(lambda: [r for r in IMDS.requests() if r["status"] == "abandoned"],
                         what="server to notice the client left")
        self.assertEqual(entry[0]["fault"], "hang")
        self.assertEqual(self.get()[0], 200)

    def test_reset(self):
        IMDS.fault("reset", count=1)
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.get()
        self.assertEqual(self.get()[0], 200)

    def test_truncated(self):
        IMDS.add_event("Preempt")
        IMDS.fault("truncated", count=1)
        conn = http.client.HTTPConnection(IMDS.host, IMDS.port, timeout=5)
        try:
            conn.request("GET", SE, headers=MD)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            declared = int(resp.getheader("Content-Length"))
            with self.assertRaises(http.client.IncompleteRead) as ctx:
                resp.read()
            self.assertLess(len(ctx.exception.partial), declared)
        finally:
            conn.close()

    def test_malformed(self):
        for variant in ("unclosed", "garbage", "trailing"):
            IMDS.fault("malformed", count=1, variant=variant)
            status, _, body = self.get()
            self.assertEqual(status, 200)
            with self.assertRaises(ValueError, msg=variant):
                json.loads(body)

    def test_huge(self):
        IMDS.add_event("Preempt")
        IMDS.fault("huge", count=1)
        status, hdrs, body = self.get()
        self.assertEqual(status, 200)
        self.assertGreater(len(body), 1024 * 1024)
        self.assertEqual(int(hdrs["content-length"]), len(body))
        doc = json.loads(body)
        self.assertIsInstance(doc["DocumentIncarnation"], int)
        IMDS.fault("huge", count=1, transfer="chunked", sizeBytes=3 * 1024 * 1024)
        status, hdrs, body = self.get()
        self.assertNotIn("content-length", hdrs)
        self.assertEqual(hdrs["transfer-encoding"], "chunked")
        self.assertGreater(len(body), 3 * 1024 * 1024)

    def test_wrong_types(self):
        IMDS.fault("wrong_types", count=1)
        doc = self.get_json()
        self.assertIsInstance(doc["DocumentIncarnation"], str)
        (event,) = doc["Events"]  # synthesised for this VM since none was pending
        self.assertIsInstance(event["EventId"], int)
        self.assertIsInstance(event["Resources"], str)
        self.assertIn(VM, event["Resources"])
        IMDS.fault("wrong_types", count=1, variant="events_object")
        self.assertIsInstance(self.get_json()["Events"], dict)
        IMDS.fault("wrong_types", count=1, variant="document_array")
        self.assertIsInstance(self.get_json(), list)
        IMDS.fault("wrong_types", endpoint="instance", count=1)
        self.assertIsInstance(self.get_json(INSTANCE)["compute"]["name"], int)

    def test_missing_fields(self):
        ev = IMDS.add_event("Preempt")
        IMDS.fault("missing_fields", count=1)
        doc = self.get_json()
        self.assertNotIn("DocumentIncarnation", doc)
        (event,) = doc["Events"]
        self.assertEqual(event["EventId"], ev["EventId"])
        self.assertNotIn("NotBefore", event)
        IMDS.fault("missing_fields", count=1, fields=["Resources", "EventId"])
        (event,) = self.get_json()["Events"]
        self.assertNotIn("Resources", event)
        self.assertNotIn("EventId", event)
        IMDS.fault("missing_fields", endpoint="instance", count=1)
        self.assertNotIn("name", self.get_json(INSTANCE)["compute"])

    def test_unknown_event_type(self):
        IMDS.fault("unknown_event_type", count=1)
        (event,) = self.get_json()["Events"]
        self.assertEqual(event["EventType"], "Hibernate")
        self.assertEqual(event["Resources"], [VM])

    def test_bad_not_before(self):
        IMDS.add_event("Preempt")
        IMDS.fault("bad_not_before", count=1)
        (event,) = self.get_json()["Events"]
        self.assertEqual(event["NotBefore"], "soon")

    def test_empty_body(self):
        IMDS.fault("empty_body", count=1)
        status, hdrs, body = self.get()
        self.assertEqual((status, body, hdrs["content-length"]), (200, b"", "0"))

    def test_html(self):
        IMDS.fault("html", count=1)
        status, hdrs, body = self.get()
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/html"))
        self.assertIn(b"<html>", body)

    def test_acknowledge_faults(self):
        IMDS.ack_behaviour(end_after_ms=-1)
        ev = IMDS.add_event("Preempt")
        body = {"StartRequests": [{"EventId": ev["EventId"]}]}
        IMDS.fault("status", endpoint="acknowledge", status=500, count=1)
        self.assertEqual(self.http("GET", SE)[0], 200)  # polling unaffected
        self.assertEqual(self.http("POST", SE, body=body)[0], 500)
        self.assertEqual(self.get_json()["Events"][0]["EventStatus"], "Scheduled")
        IMDS.fault("reset", endpoint="acknowledge", count=1)
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.http("POST", SE, body=body)
        self.assertEqual(self.get_json()["Events"][0]["EventStatus"], "Scheduled")
        self.assertEqual(self.http("POST", SE, body=body)[0], 200)
        self.assertEqual(self.get_json()["Events"][0]["EventStatus"], "Started")
        self.assertEqual([(a["status"], a["applied"]) for a in IMDS.acks()],
                         [(500, False), ("reset", False), (200, True)])

    def test_acknowledge_bad_response_still_applies(self):
        IMDS.ack_behaviour(end_after_ms=-1)
        ev = IMDS.add_event("Preempt")
        IMDS.fault("html", endpoint="acknowledge", count=1)
        status, _, payload = self.http("POST", SE, body={"StartRequests": [{"EventId": ev["EventId"]}]})
        self.assertEqual(status, 200)
        self.assertIn(b"<html>", payload)
        self.assertEqual(self.get_json()["Events"][0]["EventStatus"], "Started")

    def test_raw(self):
        IMDS.fault("raw", count=1, status=502, contentType="text/plain", body="bad gateway")
        self.assertEqual(self.get()[0::2], (502, b"bad gateway"))

    def test_invalid_fault_specs(self):
        for spec in ({"mode": "explode"}, {"mode": "status", "endpoint": "nowhere"},
                     {"mode": "status", "count": "x"}):
            with self.assertRaises(ControlError) as ctx:
                IMDS._control("POST", "/fault", spec)
            self.assertEqual(ctx.exception.status, 400)

    def test_reset_clears_faults_and_events(self):
        IMDS.add_event("Preempt")
        IMDS.fault("status", status=500)
        IMDS.reset()
        self.assertEqual(IMDS.faults(), [])
        self.assertEqual(self.get_json()["Events"], [])


class RateLimitTest(Base):
    def burst(self, n, vm=None, stop_at_429=False):
        ctl = IMDS.vm(vm) if vm else IMDS
        conn = http.client.HTTPConnection(IMDS.host, IMDS.port, timeout=5)
        statuses = []
        try:
            for _ in range(n):
                conn.request("GET", ctl.prefix + SE, headers=MD)
                resp = conn.getresponse()
                body = resp.read()
                statuses.append(resp.status)
                if resp.status == 429:
                    self.assertEqual(json.loads(body), {"error": "Too many requests"})
                    if stop_at_429:
                        break
        finally:
            conn.close()
        return statuses

    def test_more_than_five_per_second_is_429(self):
        IMDS.settings(rateLimitPerSecond=5)
        statuses = self.burst(60, stop_at_429=True)
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertGreaterEqual(statuses.count(200), 5)
        # Server side, no one-second window holds more than five answered requests.
        answered = sorted(r["t_mono"] for r in IMDS.requests() if r["status"] == 200)
        for i in range(len(answered) - 5):
            self.assertGreaterEqual(answered[i + 5] - answered[i], 1.0)

    def test_limit_is_per_vm(self):
        IMDS.settings(rateLimitPerSecond=5)
        IMDS.vm("aks-spot-2").settings(rateLimitPerSecond=5)
        self.assertIn(429, self.burst(60, stop_at_429=True))
        self.assertEqual(self.burst(3, vm="aks-spot-2"), [200, 200, 200])

    def test_disabled(self):
        self.assertEqual(set(self.burst(30)), {200})

    def test_polling_once_a_second_is_never_throttled(self):
        IMDS.settings(rateLimitPerSecond=5)
        # The agent polls scheduledevents and sometimes instance/acknowledge in the same second.
        self.assertEqual([self.http("GET", p)[0] for p in (SE, INSTANCE, SE)], [200, 200, 200])


class ObservationTest(Base):
    def test_request_log(self):
        t0 = time.monotonic()
        self.http("GET", SE, headers={"Metadata": "true", "User-Agent": "aks-node-agent/test"})
        self.http("GET", INSTANCE)
        t1 = time.monotonic()
        first, second = IMDS.requests()
        self.assertEqual(first["method"], "GET")
        self.assertEqual(first["path"], "/metadata/scheduledevents")
        self.assertEqual(first["query"], "api-version=2020-07-01")
        self.assertEqual(first["endpoint"], "scheduledevents")
        self.assertEqual(first["status"], 200)
        self.assertEqual(first["headers"]["Metadata"], "true")
        self.assertEqual(first["headers"]["User-Agent"], "aks-node-agent/test")
        self.assertNotIn("X-Forwarded-For", first["headers"])
        self.assertTrue(t0 <= first["t_mono"] <= second["t_mono"] <= t1)  # same CLOCK_MONOTONIC
        self.assertAlmostEqual(first["t_wall"], time.time(), delta=5)
        self.assertEqual(IMDS.requests(since=first["t_mono"]), [second])
        self.assertEqual(IMDS.requests(endpoint="instance"), [second])
        IMDS.clear_requests()
        self.assertEqual(IMDS.requests(), [])

    def test_control_requests_are_not_logged(self):
        IMDS.add_event("Preempt")
        IMDS.events()
        self.assertEqual(IMDS.requests(), [])

    def test_stats(self):
        self.http("GET", SE)
        self.http("GET", SE, headers={})
        IMDS.fault("status", endpoint="instance", status=500, count=1)
        self.http("GET", INSTANCE)
        stats = IMDS.stats()
        self.assertEqual(stats["requests"], 3)
        self.assertEqual(stats["byEndpoint"]["scheduledevents"], {"200": 1, "400": 1})
        self.assertEqual(stats["byEndpoint"]["instance"], {"500": 1})
        self.assertEqual(stats["faultsInjected"], {"status": 1})
        self.assertIn("incarnation", stats)

    def test_settings_validation(self):
        with self.assertRaises(ControlError) as ctx:
            IMDS.settings(noSuchSetting=1)
        self.assertEqual(ctx.exception.status, 400)
        for bad in ({"timeFormat": "unix"}, {"rateLimitPerSecond": "5"}, {"endAfterMs": True},
                    {"requestLogSize": 0}):
            with self.assertRaises(ControlError, msg=bad):
                IMDS.settings(**bad)
        self.assertEqual(self.http("GET", SE)[0], 200)

    def test_bad_event_specs_are_400_and_harmless(self):
        for spec in ({"NotBeforeIn": 1e20}, {"NotBeforeIn": "soon"}, {"DeliverTo": "aks-spot-2"}):
            with self.assertRaises(ControlError, msg=spec) as ctx:
                IMDS._control("POST", "/events", spec)
            self.assertEqual(ctx.exception.status, 400)
        ev = IMDS.add_event("Preempt")
        with self.assertRaises(ControlError):
            IMDS.update_event(ev["EventId"], NotBeforeIn=-1e20)
        self.assertEqual(len(self.events()["Events"]), 1)

    def test_vms_endpoint_creates_or_updates(self):
        self.http("GET", SE, vm="aks-spot-5")  # an agent's poll creates the VM
        doc = IMDS._control("POST", "/vms", {"name": "aks-spot-5", "computerName": "node-5",
                                             "settings": {"rateLimitPerSecond": 0},
                                             "instance": {"compute": {"zone": "3"}}})
        self.assertEqual(doc["instance"]["compute"]["osProfile"]["computerName"], "node-5")
        compute = self.get_json(INSTANCE, vm="aks-spot-5")["compute"]
        self.assertEqual((compute["zone"], compute["osProfile"]["computerName"]), ("3", "node-5"))
        self.assertIn("aks-spot-5", IMDS._control("GET", "/vms")["vms"])

    def test_unknown_event_controls_are_404(self):
        with self.assertRaises(ControlError) as ctx:
            IMDS.delete_event("nope")
        self.assertEqual(ctx.exception.status, 404)
        with self.assertRaises(ControlError):
            IMDS.start_event("nope")


class ProcessTest(unittest.TestCase):
    """Command-line behaviour, each case with its own fake process."""

    def test_port_file_flags_and_clean_shutdown_with_a_hung_request(self):
        with tempfile.TemporaryDirectory() as tmp:
            port_file = os.path.join(tmp, "port")
            fake = FakeImds.start("aks-pool-12345678-vmss_3", "--port-file", port_file, rate_limit=False,
                                  time_format="iso8601", computer_name="custom-node")
            try:
                with open(port_file) as handle:
                    self.assertEqual(int(handle.read()), fake.port)
                _, doc = fake.imds_get(INSTANCE)
                self.assertEqual(doc["compute"]["name"], "aks-pool-12345678-vmss_3")
                self.assertEqual(doc["compute"]["osProfile"]["computerName"], "custom-node")
                fake.add_event("Preempt", not_before_in=30)
                self.assertRegex(fake.scheduled_events()["Events"][0]["NotBefore"], ISO_RE)
                self.assertEqual({fake.imds_get()[0] for _ in range(20)}, {200})  # --no-rate-limit

                fake.fault("hang")
                sock = socket.create_connection((fake.host, fake.port), timeout=5)
                sock.sendall(b"GET " + SE.encode() + b" HTTP/1.1\r\nHost: x\r\nMetadata: true\r\n\r\n")
                wait_for(lambda: [r for r in fake.requests() if r["fault"] == "hang"], what="hung request")
                code = fake.stop(timeout=5)  # a shutdown that waited for the hung request: killed, not 0
                self.assertEqual(code, 0)
                sock.close()
            finally:
                fake.stop()

    def test_refuses_non_loopback(self):
        import subprocess
        from imds_control import FAKE_IMDS
        proc = subprocess.run([sys.executable, FAKE_IMDS, "--host", "0.0.0.0"], capture_output=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
