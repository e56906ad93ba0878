#!/usr/bin/env python3
"""docs/metrics.md is the agent's /metrics: the real binary, with every optional family switched
on (a disk, a cache, workload identity with a pod scan that finds a misconfigured pod, a
webhook), against
the tables of the doc. Fails on a family, a type, a label name, or a value of a closed label set
that one has and the other has not.
"""
import os
import re

from agent_harness import AgentTestCase, main, wait_until
import metrics_doc

# Families the doc may list that the agent does not export (none today).
NOT_YET_EXPORTED: set = set()
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$")


def misconfigured_pod(ns: str, name: str, node: str) -> dict:
    """A pod that asks for workload identity but was not mutated by the webhook (no env, no volume)."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": ns, "name": name, "labels": {"azure.workload.identity/use": "true"}},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "mcr.microsoft.com/oss/app:v1"}]},
            "status": {"phase": "Running"}}


def exposition(metrics) -> dict:
    """{family: {"type": type, "series": [labels dict, ...]}} from one scrape."""
    fams: dict = {}
    for line in metrics.text.splitlines():
        m = TYPE_LINE.match(line)
        if m:
            fams[m.group(1)] = {"type": m.group(2), "series": []}
    for (name, labels), _ in metrics.samples.items():
        fam = name
        if name not in fams:
            for suffix in HISTOGRAM_SUFFIXES:
                base = name[: -len(suffix)]
                if name.endswith(suffix) and fams.get(base, {}).get("type") == "histogram":
                    fam = base
        if fam not in fams:
            raise AssertionError(f"sample {name} has no # TYPE line")
        if name.endswith("_bucket") and fam != name:
            labels = tuple(kv for kv in labels if kv[0] != "le")
        fams[fam]["series"].append(dict(labels))
    return fams


class MetricsDocTest(AgentTestCase):
    def test_doc_and_agent_agree(self):
        doc = metrics_doc.load()
        self.assertGreater(len(doc), 20, "docs/metrics.md: the tables were not found")
        self.seed(pods=0, daemonsets=0)
        self.kube.create(misconfigured_pod("team-a", "web-0", self.NODE_NAME))
        disk = os.path.join(self.workdir, "disk")
        cache = os.path.join(disk, "cache")
        os.makedirs(cache)
        agent = self.start_agent({
            "disks": [{"path": disk}],
            "caches": [{"path": cache}],
            "identity": {"enabled": True, "podScan": {"enabled": True, "interval": "1s"}},
            # The notification families have series per configured webhook (none is sent here).
            "notifications": {"webhooks": [{"name": "doc-check", "url": "http://127.0.0.1:9/hook"}]},
        })
        # aksnode_identity_pods_misconfigured has series once a pod scan ran.
        scrape = wait_until(lambda: (m := agent.metrics()).series("aksnode_identity_pods_misconfigured",
                                                                  namespace="team-a") and m,
                            20, "a pod scan counting the misconfigured pod")
        exposed = exposition(scrape)
        problems = []

        for fam in sorted(set(exposed) - set(doc)):
            problems.append(f"{fam}: exported by the agent, not in docs/metrics.md")
        for fam in sorted(set(doc) - set(exposed)):
            if fam not in NOT_YET_EXPORTED:
                problems.append(f"{fam}: in docs/metrics.md, not exported by the agent")

        for fam in sorted(set(doc) & set(exposed)):
            want, got = doc[fam], exposed[fam]
            if want["type"] != got["type"]:
                problems.append(f"{fam}: type {got['type']} in /metrics, {want['type']} in the doc")
            if not got["series"]:
                if fam not in NOT_YET_EXPORTED:
                    problems.append(f"{fam}: no series in /metrics, so its labels cannot be compared")
                continue
            for names in sorted({tuple(sorted(s)) for s in got["series"]}):
                if set(names) != set(want["labels"]):
                    problems.append(f"{fam}: labels {sorted(names)} in /metrics, {sorted(want['labels'])} in the doc")
            for label, values in want["labels"].items():
                if values is None:
                    continue  # open: configured paths, namespaces, build info
                seen = {s[label] for s in got["series"] if label in s}
                if seen - values:
                    problems.append(f"{fam}{{{label}}}: {sorted(seen - values)} in /metrics, not in the doc")
                if values - seen:
                    problems.append(f"{fam}{{{label}}}: {sorted(values - seen)} in the doc, not in /metrics "
                                    f"(known label sets are exported from start-up)")

        # The twins of the labels that collide with target labels carry the same value.
        for fam, (old, twin) in {"aksnode_imds_requests_total": ("endpoint", "imds_endpoint"),
                                 "aksnode_imds_request_duration_seconds": ("endpoint", "imds_endpoint"),
                                 "aksnode_identity_pods_misconfigured": ("namespace", "pod_namespace")}.items():
            for s in exposed.get(fam, {}).get("series", []):
                if s.get(old) != s.get(twin):
                    problems.append(f"{fam}: {old}={s.get(old)!r} but {twin}={s.get(twin)!r}")
        self.assertEqual(problems, [], "docs/metrics.md and the agent's /metrics differ:\n" + "\n".join(problems))
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
