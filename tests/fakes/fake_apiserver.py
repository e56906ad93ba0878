#!/usr/bin/env python3
"""Fake Kubernetes API server for aks-node-agent tests, benchmarks and demos.

    python3 tests/fakes/fake_apiserver.py --port 0 --port-file /tmp/port [--grace-scale 0.01]
    kubectl --server http://127.0.0.1:$(cat /tmp/port) get nodes

See tests/fakes/README.md (section fake_apiserver.py) for the control API.
"""

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakeapi.server import make_server  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1", help="bind address (loopback only by design)")
    ap.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--grace-scale", type=float, default=0.0,
                    help="multiply pod grace periods by this (0 = remove terminating pods at once)")
    ap.add_argument("--replacement-ready-ms", type=float, default=200,
                    help="time for a replacement pod to become Running+Ready")
    ap.add_argument("--unschedulable-taint-ms", type=float, default=100,
                    help="delay before the node lifecycle controller mirrors a cordon as the "
                         "node.kubernetes.io/unschedulable taint (negative disables)")
    ap.add_argument("--token", action="append", default=[], help="require Authorization: Bearer TOKEN (repeatable)")
    ap.add_argument("--seed", action="append", default=[], metavar="JSON",
                    help='seed at start-up, e.g. \'{"node":"aks-spot-1","pods":30,"pdb":true}\' (repeatable)')
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (kubectl sends bearer tokens "
                                       "only over TLS)")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the process that started this one dies (no stray fakes after a crashed test)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    if args.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("--host must be a loopback address")
    sys.setswitchinterval(0.001)  # fairer GIL hand-off: accepts stay prompt under ~100 busy clients
    srv = make_server(args.host, args.port, args.grace_scale, args.replacement_ready_ms,
                      args.unschedulable_taint_ms, args.token, args.verbose, args.tls_cert,
                      args.tls_key or args.tls_cert)
    if args.seed:
        import json
        for s in args.seed:
            srv.cluster.seeder.seed(json.loads(s))
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)  # atomic: readers never see a half-written file
    print("LISTENING %d" % port, flush=True)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while os.getppid() == parent:
                time.sleep(0.5)
            stop()

        threading.Thread(target=watch_parent, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
