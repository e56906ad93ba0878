#!/usr/bin/env python3
"""Every PromQL expression of the alerts and the dashboard, against a real
Prometheus (Debian's `prometheus`, on loopback) scraping the real agent.

usage: promql_live_test.py [--agent PATH]   (default: $AKSNODE_AGENT, then build/aks-node-agent)

The agent runs with a local config (fake IMDS from tests/fakes when present, no
API server, disk/cache probes on a temp dir). Prometheus scrapes it every
second with the PodMonitor's labels (job="aks-node-agent", node=..., honor
labels) and loads deploy/monitoring/rules/aks-node-agent.rules.yaml. Checks:
  - Prometheus's own parser and engine accept every expression (/api/v1/query)
  - every aksnode_ metric an expression names is in the agent's /metrics output
    (a sample, or a # TYPE line for families whose series appear later), and
    every label value an expression matches with = exists in that output
  - every alerting rule evaluates without error (/api/v1/rules health)
Exit 0 pass, 1 fail, 77 skip (no agent binary or no prometheus here).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

# docs/metrics.md: families that have series only once something ran.
SERIES_AFTER_POD_SCAN = {"aksnode_identity_pods_misconfigured"}

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
NODE = "live-test-node"
# Not exported by the agent: Prometheus's own `up`, kube-state-metrics.
FOREIGN = re.compile(r"^(up|kube_.*)$")
TARGET_LABELS = {"job", "instance", "node", "pod", "namespace", "container", "le"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return True
        except Exception:
            pass
        time.sleep(0.3)
    raise TimeoutError(what)


def expressions():
    out = []
    rules = yaml.safe_load(open(os.path.join(REPO, "deploy/monitoring/rules/aks-node-agent.rules.yaml")))
    for g in rules["groups"]:
        for r in g["rules"]:
            out.append((f"alert {r.get('alert') or r.get('record')}", r["expr"]))
    dash = json.load(open(os.path.join(REPO, "deploy/grafana/aks-node-agent.json")))

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                e = t["expr"].replace("$__rate_interval", "15s").replace("$__range", "1m").replace("$node", ".*")
                e = e.replace("$cluster", ".*")
                out.append((f"dashboard {p.get('title')!r}", e))
            walk(p.get("panels", []))

    walk(dash["panels"])
    for v in dash["templating"]["list"]:
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if isinstance(q, str) and q.startswith("label_values("):
            m = re.match(r"label_values\((.*),\s*(\w+)\)", q)
            out.append((f"dashboard variable {v['name']}", m.group(1).replace("$cluster", ".*")))
    return out


def parse_exposition(text):
    """{metric name: [labels dict]} and the set of # TYPE'd families."""
    series, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        series.setdefault(m.group(1), []).append(labels)
    return series, typed


def main():
    args = sys.argv[1:]
    agent = None
    if args[:1] == ["--agent"] and len(args) > 1:
        agent = args[1]
    agent = agent or os.environ.get("AKSNODE_AGENT") or os.path.join(REPO, "build", "aks-node-agent")
    if not (os.path.isfile(agent) and os.access(agent, os.X_OK)):
        print(f"SKIP: no agent binary at {agent} (build it, or pass --agent PATH)")
        return 77
    prom = shutil.which("prometheus")
    if not prom:
        print("SKIP: no prometheus binary (apt-get install prometheus)")
        return 77

    tmp = tempfile.mkdtemp(prefix="aksnode-promql-")
    procs = []
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL:", msg)

    try:
        # Fake IMDS (so the IMDS series carry real results), when the repo has it.
        imds_endpoint = "http://127.0.0.1:9"  # nothing listens: results 'unreachable'
        fake = os.path.join(REPO, "tests/fakes/fake_imds.py")
        if os.path.exists(fake):
            port_file = os.path.join(tmp, "imds.port")
            p = subprocess.Popen([sys.executable, fake, "--port", "0", "--port-file", port_file,
                                  "--vm-name", NODE], stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "imds.log"), "w"))
            procs.append(p)
            try:
                wait(lambda: os.path.getsize(port_file) > 0, 10, "fake IMDS port file")
                imds_endpoint = f"http://127.0.0.1:{int(open(port_file).read().strip())}/vm/{NODE}"
            except (TimeoutError, ValueError):
                print("note: fake IMDS did not start; IMDS requests will fail")

        probe_dir = os.path.join(tmp, "disk")
        os.makedirs(os.path.join(probe_dir, "cache"))
        agent_port = free_port()
        cfg = {
            "nodeName": NODE,
            "imds": {"endpoint": imds_endpoint},
            "disks": [{"path": probe_dir}],
            "caches": [{"path": os.path.join(probe_dir, "cache")}],
            "healthInterval": "2s",
            "metrics": {"address": f"127.0.0.1:{agent_port}"},
        }
        cfg_path = os.path.join(tmp, "agent.yaml")
        yaml.safe_dump(cfg, open(cfg_path, "w"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNETES_", "AZURE_"))}
        env["NODE_NAME"] = NODE
        agent_log = open(os.path.join(tmp, "agent.log"), "w")
        procs.append(subprocess.Popen([agent, "--config", cfg_path], env=env, stdout=agent_log, stderr=agent_log))
        try:
            wait(lambda: "aksnode_build_info" in get(f"http://127.0.0.1:{agent_port}/metrics"), 15,
                 "agent /metrics")
        except TimeoutError:
            print(open(os.path.join(tmp, "agent.log")).read()[-3000:])
            fail(f"the agent ({agent}) did not serve aksnode_build_info on /metrics within 15 s")
            return 1

        prom_port = free_port()
        rules_file = os.path.join(REPO, "deploy/monitoring/rules/aks-node-agent.rules.yaml")
        pcfg = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [rules_file],
            "scrape_configs": [{
                "job_name": "aks-node-agent", "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{agent_port}"],
                                    "labels": {"node": NODE, "namespace": "aks-node-agent"}}],
            }],
        }
        pcfg_path = os.path.join(tmp, "prometheus.yml")
        yaml.safe_dump(pcfg, open(pcfg_path, "w"))
        prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
        procs.append(subprocess.Popen([prom, f"--config.file={pcfg_path}", f"--storage.tsdb.path={tmp}/tsdb",
                                       f"--web.listen-address=127.0.0.1:{prom_port}"],
                                      stdout=prom_log, stderr=prom_log))
        api = f"http://127.0.0.1:{prom_port}/api/v1"

        def target_up():
            t = json.loads(get(f"{api}/targets"))["data"]["activeTargets"]
            return t and t[0]["health"] == "up"

        try:
            wait(target_up, 30, "Prometheus scraping the agent")
        except TimeoutError:
            print(open(os.path.join(tmp, "prometheus.log")).read()[-3000:])
            fail("Prometheus did not scrape the agent within 30 s")
            return 1
        time.sleep(6)  # a few scrapes and rule evaluations

        series, typed = parse_exposition(get(f"http://127.0.0.1:{agent_port}/metrics"))
        exprs = expressions()
        nonempty = 0
        for where, expr in exprs:
            try:
                res = json.loads(get(f"{api}/query?" + urllib.parse.urlencode({"query": expr})))
            except urllib.error.HTTPError as e:
                res = json.loads(e.read().decode() or "{}")
            if res.get("status") != "success":
                fail(f"{where}: Prometheus rejects {expr!r}: {res.get('error')}")
                continue
            if res["data"]["result"]:
                nonempty += 1
            for m in re.finditer(r"\b([a-z_][a-z0-9_]*)\b\s*(\{([^}]*)\})?", expr):
                name = m.group(1)
                if not name.startswith("aksnode_"):
                    continue
                fam = re.sub(r"_(bucket|count|sum)$", "", name)
                # docs/metrics.md: this family has series only once a pod scan ran
                # (identity.podScan, off in this test's config).
                if name in SERIES_AFTER_POD_SCAN:
                    continue
                if name not in series and name not in typed and fam not in typed:
                    fail(f"{where}: {name} is not in the agent's /metrics output")
                    continue
                for label, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', m.group(3) or ""):
                    if op != "=" or label in TARGET_LABELS or name not in series:
                        continue
                    if not any(s.get(label) == value for s in series[name]):
                        fail(f"{where}: no {name}{{{label}=\"{value}\"}} series in the agent's output "
                             f"(docs/metrics.md: known label sets are initialised to 0)")
        rules = json.loads(get(f"{api}/rules"))["data"]["groups"]
        nrules = 0
        for g in rules:
            for r in g["rules"]:
                nrules += 1
                if r.get("health") == "err":
                    fail(f"rule {r.get('name')}: evaluation error: {r.get('lastError')}")
        foreign = sorted({n for _, e in exprs for n in re.findall(r"\b(kube_[a-z_]+)\b", e)})
        print(f"promql_live_test: {len(exprs)} expressions ({nonempty} with data), {nrules} rules evaluated; "
              f"not from the agent: up, {', '.join(foreign) or '-'}")
        return 1 if failures else 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if failures and os.environ.get("KEEP_TMP"):
            print("logs kept in", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
