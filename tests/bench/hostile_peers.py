#!/usr/bin/env python3
"""Numbers for the first three rows of arch/FAULTS.md, "Attacks on the running binary", measured the
same way on any build of the agent.

    python3 tests/bench/hostile_peers.py [--binary build/aks-node-agent] [--only flood,retry,zeros]

  flood  N idle (then slowloris) TCP connections to the agent's metrics port, re-opened as soon
         as the agent closes one, while /healthz is probed 40 times (new connection each, 2 s
         timeout, as the kubelet does): how many answered, the slowest answer.
  retry  one IMDS 429 with `Retry-After: 1000000000`: seconds until the next poll (stops
         waiting at 60 s).
  zeros  a 1 MiB `{"Events":[0,0,...]}` served for 3 polls: peak RSS (VmHWM), RSS after, log
         lines written.

Prints one line per measurement; nothing is asserted (the integration tests do that).
"""

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import agent_harness  # noqa: E402
from agent_harness import AgentProcess, base_config  # noqa: E402
from agent_connection_flood_test import Flood, probe, raise_fd_limit  # noqa: E402
import agent_connection_flood_test  # noqa: E402
from agent_imds_hostile_test import proc_status_kib, zeros_document  # noqa: E402
from imds_control import FakeImds  # noqa: E402


def start_agent(imds, workdir, name):
    cfg = base_config(imds.url, None)
    agent = AgentProcess(workdir, cfg, ["--node-name", "aks-spot-1"], name=name)
    agent.wait_serving()
    return agent


def flood(imds, workdir, attackers):
    agent_connection_flood_test.ATTACKERS = attackers
    raise_fd_limit(attackers + 1024)
    for slowloris in (False, True):
        agent = start_agent(imds, workdir, f"flood{int(slowloris)}")
        f = Flood(agent.port, slowloris)
        f.start()
        f.ready.wait(30)
        deadline = time.monotonic() + 30
        while f.closed_by_peer < 128 and time.monotonic() < deadline:
            time.sleep(0.1)
        results = []
        for _ in range(40):
            results.append(probe(agent.port))
            time.sleep(0.05)
        f.stop_flag.set()
        f.join(60)
        ok = sum(1 for s, _ in results if s == 200)
        kind = "slowloris" if slowloris else "idle"
        print(f"flood  {attackers} {kind}: /healthz {ok}/40 answered, slowest {max(t for _, t in results):.2f}s, "
              f"agent closed {f.closed_by_peer} connections, agent alive {agent.alive()}")
        agent.kill()


def retry(imds, workdir):
    agent = start_agent(imds, workdir, "retry")
    imds.fault("status", status=429, count=1, headers={"Retry-After": "1000000000"})
    t_end = time.monotonic() + 10
    throttled = None
    while throttled is None and time.monotonic() < t_end:
        hits = [r for r in imds.requests(endpoint="scheduledevents") if r.get("status") == 429]
        throttled = hits[0] if hits else None
        time.sleep(0.05)
    gap = None
    t_end = time.monotonic() + 60
    while gap is None and time.monotonic() < t_end:
        after = [r for r in imds.requests(endpoint="scheduledevents") if r["t_mono"] > throttled["t_mono"]]
        gap = after[0]["t_mono"] - throttled["t_mono"] if after else None
        time.sleep(0.1)
    print(f"retry  429 Retry-After 1e9: next poll after {'%.2fs' % gap if gap is not None else 'more than 60 s'}")
    agent.kill()
    imds.reset()


def zeros(imds, workdir):
    agent = start_agent(imds, workdir, "zeros")
    pid = agent.proc.pid
    rss0 = proc_status_kib(pid, "VmRSS")
    lines0 = len(agent.log_lines())
    n0 = len(imds.requests(endpoint="scheduledevents"))
    imds.fault("raw", status=200, body=zeros_document())
    t_end = time.monotonic() + 120
    while len(imds.requests(endpoint="scheduledevents")) < n0 + 4 and time.monotonic() < t_end:
        time.sleep(0.1)
    imds.clear_faults()
    # Let the last document be processed: wait for one more (normal) poll.
    n1 = len(imds.requests(endpoint="scheduledevents"))
    while len(imds.requests(endpoint="scheduledevents")) < n1 + 2 and time.monotonic() < t_end:
        time.sleep(0.1)
    hwm = proc_status_kib(pid, "VmHWM")
    rss = proc_status_kib(pid, "VmRSS")
    lines = len(agent.log_lines()) - lines0
    print(f"zeros  1 MiB [0,0,...] x3: RSS {rss0 / 1024:.1f} -> {rss / 1024:.1f} MiB, peak {hwm / 1024:.1f} MiB, "
          f"{lines} log lines")
    agent.kill()
    imds.reset()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary")
    ap.add_argument("--only", default="flood,retry,zeros")
    ap.add_argument("--attackers", type=int, default=2000)
    args = ap.parse_args()
    if args.binary:
        os.environ["AKSNODE_BINARY"] = os.path.abspath(args.binary)
    print(f"binary {agent_harness.agent_binary()}")
    workdir = tempfile.mkdtemp(prefix="aksnode-hostile-")
    imds = FakeImds.start("aks-spot-1")
    try:
        only = args.only.split(",")
        if "flood" in only:
            flood(imds, workdir, args.attackers)
        if "retry" in only:
            retry(imds, workdir)
        if "zeros" in only:
            zeros(imds, workdir)
    finally:
        imds.stop()


if __name__ == "__main__":
    main()
