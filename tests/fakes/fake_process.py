"""What every fake server process shares: how a test starts one and learns its port, how the
fake serves until told to stop (SIGTERM, SIGINT, or its parent gone), and the TLS handshake on
the request's own thread."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import threading
import time
from typing import Any, Optional


def spawn_listening(cmd: list, what: str, startup_timeout: float, verbose: bool) -> tuple:
    """Start a fake (`--port 0`) and wait for its `LISTENING <port>` line: (process, port)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None if verbose else subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + startup_timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # blocks until the fake prints (or exits)
        if not line:
            break
        if line.startswith("LISTENING "):
            return proc, int(line.split()[1])
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{what} did not start (exit code {proc.poll()})")


def serve(server: Any, stopping: threading.Event, exit_with_parent: bool, port_file: Optional[str]) -> int:
    """Announce the port (stdout, and port_file if given) and serve until a signal, or until the
    parent that started the fake is gone (with exit_with_parent). `server.stop()` ends it."""
    port = server.server_address[1]

    def request_stop(*_: Any) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if exit_with_parent:
        parent = os.getppid()

        def watch_parent() -> None:
            while not stopping.is_set():
                if os.getppid() != parent:
                    request_stop()
                    return
                time.sleep(0.5)
        threading.Thread(target=watch_parent, daemon=True).start()
    if port_file:
        tmp = f"{port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, port_file)
    print(f"LISTENING {port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        stopping.set()
    return 0


class HandshakeOnRequestThread:
    """A BaseHTTPRequestHandler mixin: the TLS handshake runs in setup(), on the request's own
    thread, so a client that connects and says nothing cannot stall the accept loop."""

    request: Any

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError):
                self.request.close()
                raise
            self.request.settimeout(None)
        super().setup()  # type: ignore[misc]
