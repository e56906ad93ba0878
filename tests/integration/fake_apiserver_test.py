#!/usr/bin/env python3
"""Integration tests for tests/fakes/fake_apiserver.py.

They start the fake on port 0 and drive it with the real kubectl (/usr/bin/kubectl)
and with raw HTTP, asserting the behaviour the agent relies on. No sleeps are used
for synchronisation: conditions are polled against a deadline.

    python3 tests/integration/fake_apiserver_test.py [-v] [TestClass.test_name]
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
from fakeapi.client import FakeKube, wait_for  # noqa: E402

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def read(path):
    with open(path) as f:
        return f.read()


class Base(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.api = FakeKube.start(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def setUp(self):
        self.api.token = None
        self.api.ok("POST", "/fake/reset", {})


class KubectlTest(Base):
    def test_get_commands_print_like_a_real_cluster(self):
        self.api.seed(node="aks-spot-1", pods=3, pdb=True, daemonsets=2, mirror=True, finished=1,
                      extraNodes=["spare-1"])
        out = self.api.kubectl("get", "nodes").stdout
        self.assertRegex(out, r"NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION")
        self.assertRegex(out, r"aks-spot-1\s+Ready\s+agent\s+\S+\s+v1\.31\.2")
        self.assertIn("spare-1", out)

        out = self.api.kubectl("get", "pods", "-A", "-o", "wide").stdout
        self.assertRegex(out, r"NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE")
        self.assertRegex(out, r"workloads\s+web-aks-spot-1-\w+-\w{5}\s+1/1\s+Running\s+0\s+\S+\s+10\.244\.\S+\s+aks-spot-1")
        self.assertRegex(out, r"kube-system\s+kube-proxy-\w{5}\s+1/1\s+Running")
        self.assertRegex(out, r"job-aks-spot-1-0-\w{5}\s+0/1\s+Completed")

        node = json.loads(self.api.kubectl("get", "node", "aks-spot-1", "-o", "json").stdout)
        self.assertEqual(node["kind"], "Node")
        self.assertTrue(node["spec"]["providerID"].startswith("azure:///subscriptions/"))
        self.assertIn({"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"},
                      node["spec"]["taints"])
        self.assertEqual({c["type"] for c in node["status"]["conditions"]} >= {"Ready", "VMEventScheduled"}, True)

        out = self.api.kubectl("get", "pdb", "-A").stdout
        self.assertRegex(out, r"workloads\s+web-aks-spot-1-pdb\s+N/A\s+1\s+1\s+")

        self.api.ok("POST", "/api/v1/namespaces/default/events", {
            "metadata": {"name": "aks-spot-1.cordon"}, "type": "Normal", "reason": "Cordoned",
            "message": "Node cordoned for Preempt", "count": 1, "source": {"component": "aks-node-agent"},
            "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": "aks-spot-1",
                               "uid": node["metadata"]["uid"]}})
        out = self.api.kubectl("get", "events", "-A").stdout
        self.assertRegex(out, r"default\s+\S+\s+Normal\s+Cordoned\s+node/aks-spot-1\s+Node cordoned for Preempt")

    def test_cordon_taint_uncordon_keep_other_taints(self):
        self.api.seed(node="n1", pods=1, otherTaints=[{"key": "team", "value": "data", "effect": "NoSchedule"}])
        self.assertIn("node/n1 cordoned", self.api.kubectl("cordon", "n1").stdout)
        self.assertTrue(self.api.node("n1")["spec"]["unschedulable"])
        # The node lifecycle controller mirrors the cordon as a taint, in a separate write.
        wait_for(lambda: any(t["key"] == "node.kubernetes.io/unschedulable"
                             for t in self.api.node("n1")["spec"].get("taints", [])), what="unschedulable taint")
        self.api.kubectl("taint", "nodes", "n1", "aks-node-agent/scheduled-event=Preempt:NoSchedule")
        keys = [t["key"] for t in self.api.node("n1")["spec"]["taints"]]
        self.assertEqual(sorted(keys), sorted(["kubernetes.azure.com/scalesetpriority", "team",
                                               "node.kubernetes.io/unschedulable", "aks-node-agent/scheduled-event"]))
        self.assertIn("node/n1 uncordoned", self.api.kubectl("uncordon", "n1").stdout)
        self.assertNotIn("unschedulable", self.api.node("n1")["spec"])
        wait_for(lambda: all(t["key"] != "node.kubernetes.io/unschedulable"
                             for t in self.api.node("n1")["spec"].get("taints", [])), what="taint removal")
        self.api.kubectl("taint", "nodes", "n1", "aks-node-agent/scheduled-event-")
        keys = [t["key"] for t in self.api.node("n1")["spec"]["taints"]]
        self.assertEqual(sorted(keys), ["kubernetes.azure.com/scalesetpriority", "team"])

    def test_drain_respects_pdb_one_at_a_time(self):
        seeded = self.api.seed(node="aks-spot-1", pods=3, pdb={"maxUnavailable": 1}, daemonsets=2, mirror=True,
                               finished=1, emptyDir=True, statefulset=2, agentPod=True,
                               extraNodes=["spare-1", "spare-2"])
        since = self.api.ok("GET", "/fake/requests")["last"]
        p = self.api.kubectl("drain", "aks-spot-1", "--ignore-daemonsets", "--delete-emptydir-data",
                             "--timeout", "60s")
        self.assertIn("node/aks-spot-1 drained", p.stdout)
        self.assertIn("Cannot evict pod as it would violate the pod's disruption budget.", p.stderr)
        left = {"%s/%s" % (q["metadata"]["namespace"], q["metadata"]["name"]) for q in self.api.pods_on("aks-spot-1")}
        expect = set(seeded["pods"]["daemonset"] + seeded["pods"]["mirror"] + seeded["pods"]["agent"])
        self.assertEqual(left, expect)
        # Replacements landed on the spare nodes and are Running and Ready.
        moved = self.api.pods_on("spare-1") + self.api.pods_on("spare-2")
        self.assertEqual(sorted(q["metadata"]["name"] for q in moved if q["metadata"]["name"].startswith("db-")),
                         ["db-aks-spot-1-0", "db-aks-spot-1-1"])
        self.assertEqual(sum(1 for q in moved if q["metadata"]["name"].startswith("web-")), 3)
        wait_for(lambda: all(q["status"]["phase"] == "Running" for q in
                             self.api.pods_on("spare-1") + self.api.pods_on("spare-2")), what="replacements running")
        log = self.api.ok("GET", "/fake/requests?since=%d" % since)["items"]
        evictions = [e for e in log if e["resource"] == "pods/eviction"]
        self.assertIn(429, [e["status"] for e in evictions])
        self.assertEqual(sum(1 for e in evictions if e["status"] == 201), 3 + 2 + 1)  # web, db, finished job
        self.assertTrue(any(e["verb"] == "get" and e["resource"] == "daemonsets" for e in log))
        node = self.api.node("aks-spot-1")
        self.assertTrue(node["spec"]["unschedulable"])

    def test_drain_bare_pod_needs_force(self):
        self.api.seed(node="n2", pods=1, bare=1, daemonsets=1, extraNodes=["spare-1"])
        p = self.api.kubectl("drain", "n2", "--ignore-daemonsets", "--timeout", "30s", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot delete Pods that declare no controller", p.stderr)
        p = self.api.kubectl("drain", "n2", "--ignore-daemonsets", "--force", "--timeout", "30s")
        self.assertIn("node/n2 drained", p.stdout)
        self.assertEqual([q["metadata"]["name"][:8] for q in self.api.pods_on("n2")], ["kube-pro"])


    def test_drain_stops_on_pod_with_two_pdbs(self):
        self.api.seed(node="n3", pods=1, daemonsets=0, pdb=True, extraNodes=["spare-1"])
        self.api.ok("POST", "/apis/policy/v1/namespaces/workloads/poddisruptionbudgets", {
            "metadata": {"name": "second"}, "spec": {"minAvailable": 0, "selector": {"matchLabels": {"app": "web-n3"}}}})
        p = self.api.kubectl("drain", "n3", "--timeout", "30s", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
                      "support.", p.stderr)
        self.assertNotIn("will retry", p.stderr)  # kubectl retries only 429

    def test_watch_shows_cordon(self):
        self.api.seed(node="n4", pods=0, daemonsets=0)
        out_path = os.path.join(self.api.tmp, "watch.out")
        env = dict(os.environ, KUBECONFIG="/dev/null", HOME=self.api.tmp)
        with open(out_path, "w") as out:
            proc = subprocess.Popen([KUBECTL, "--server", self.api.url, "--cache-dir",
                                     os.path.join(self.api.tmp, "kube-cache"), "get", "nodes", "-w"],
                                    stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: "n4" in read(out_path), what="initial listing")
            # No need to wait for the watch itself: it starts from the list's resourceVersion,
            # so a change made before it is connected is still delivered.
            self.api.ok("PATCH", "/api/v1/nodes/n4", {"spec": {"unschedulable": True}},
                        "application/strategic-merge-patch+json")
            wait_for(lambda: "Ready,SchedulingDisabled" in read(out_path), what="watch event printed")
        finally:
            proc.terminate()
            proc.wait(10)
        # The raw stream: chunked JSON lines, starting from a given resourceVersion.
        rv = self.api.node("n4")["metadata"]["resourceVersion"]
        conn = self.api.connection()
        conn.request("GET", "/api/v1/nodes?watch=true&timeoutSeconds=2&resourceVersion=" + rv)
        resp = conn.getresponse()
        self.api.ok("PATCH", "/api/v1/nodes/n4", {"metadata": {"labels": {"w": "1"}}}, "application/merge-patch+json")
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
        conn.close()
        self.assertIn(("MODIFIED", "1"), [(e["type"], e["object"]["metadata"]["labels"].get("w")) for e in events])


class TlsAuthTest(Base):
    """HTTPS with a bearer token, as in-cluster; tokens rotate through /fake/tokens."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("openssl not available")
        cls.api = FakeKube.start(tls=True)

    def test_kubectl_with_token_and_rotation(self):
        self.api.seed(node="n1", pods=1)
        self.api.ok("POST", "/fake/tokens", {"tokens": ["old-token"]})
        self.api.token = "wrong-token"  # (with no token at all kubectl would prompt for a username)
        p = self.api.kubectl("get", "nodes", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("You must be logged in to the server", p.stderr)
        self.api.token = "old-token"
        self.api.kubectl("get", "nodes")
        self.api.ok("POST", "/fake/tokens", {"tokens": ["new-token"]})
        status, _, body = self.api.request("GET", "/api/v1/nodes")
        self.assertEqual((status, body["reason"], body["code"]), (401, "Unauthorized", 401))
        self.api.token = "new-token"
        self.assertIn("n1", self.api.kubectl("get", "nodes").stdout)
        self.api.kubectl("cordon", "n1")
        self.api.ok("POST", "/fake/tokens", {"tokens": []})



class ApiSemanticsTest(Base):
    def test_resource_version_conflicts(self):
        self.api.seed(node="n1", pods=0, daemonsets=0)
        node = self.api.node("n1")
        rv = node["metadata"]["resourceVersion"]
        stale = str(int(rv) - 1)
        status, _, body = self.api.request("PATCH", "/api/v1/nodes/n1",
                                           {"metadata": {"resourceVersion": stale}, "spec": {"unschedulable": True}},
                                           "application/strategic-merge-patch+json")
        self.assertEqual(status, 409)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": 'Operation cannot be fulfilled on nodes "n1": the object has been '
                                           'modified; please apply your changes to the latest version and try again',
                                "reason": "Conflict", "details": {"name": "n1", "kind": "nodes"}, "code": 409})
        self.assertNotIn("unschedulable", self.api.node("n1")["spec"])
        # The same patch with the current resourceVersion succeeds and bumps it.
        out = self.api.ok("PATCH", "/api/v1/nodes/n1",
                          {"metadata": {"resourceVersion": rv}, "spec": {"unschedulable": True}},
                          "application/strategic-merge-patch+json")
        self.assertGreater(int(out["metadata"]["resourceVersion"]), int(rv))
        # PUT: stale -> 409, current -> 200.
        node["spec"]["taints"] = [{"key": "a", "effect": "NoSchedule"}]
        status, _, body = self.api.request("PUT", "/api/v1/nodes/n1", node)
        self.assertEqual((status, body["reason"]), (409, "Conflict"))
        cur = self.api.node("n1")
        cur["spec"]["taints"] = [{"key": "a", "effect": "NoSchedule"}]
        cur["status"]["conditions"] = []  # ignored: PUT on the main resource never changes status
        out = self.api.ok("PUT", "/api/v1/nodes/n1", cur)
        self.assertEqual(out["spec"]["taints"], [{"key": "a", "effect": "NoSchedule"}])
        self.assertTrue(out["status"]["conditions"])
        # JSON patch test on resourceVersion fails with 422.
        status, _, body = self.api.request("PATCH", "/api/v1/nodes/n1",
                                           [{"op": "test", "path": "/metadata/resourceVersion", "value": stale}],
                                           "application/json-patch+json")
        self.assertEqual((status, body["reason"]), (422, "Invalid"))
        # Every write bumps the global resourceVersion seen by lists.
        lrv = int(self.api.ok("GET", "/api/v1/nodes")["metadata"]["resourceVersion"])
        self.api.ok("PATCH", "/api/v1/nodes/n1", {"metadata": {"labels": {"x": "1"}}}, "application/merge-patch+json")
        self.assertGreater(int(self.api.ok("GET", "/api/v1/nodes")["metadata"]["resourceVersion"]), lrv)

    def test_strategic_merge_semantics(self):
        self.api.seed(node="n1", pods=0, daemonsets=0)
        smp = "application/strategic-merge-patch+json"
        before = self.api.node("n1")
        n_conds = len(before["status"]["conditions"])
        out = self.api.ok("PATCH", "/api/v1/nodes/n1/status", {"status": {"conditions": [
            {"type": "PreemptionScheduled", "status": "True", "reason": "SpotEvictionIncoming",
             "message": "NotBefore 2026-11-26T19:20:10Z"},
            {"type": "VMEventScheduled", "status": "True", "reason": "Preempt", "message": "x"}]},
            "spec": {"unschedulable": True}, "metadata": {"labels": {"ignored": "yes"}}}, smp)
        conds = {c["type"]: c for c in out["status"]["conditions"]}
        self.assertEqual(len(out["status"]["conditions"]), n_conds + 1)  # merged by type, one new
        self.assertEqual(conds["VMEventScheduled"]["reason"], "Preempt")
        self.assertEqual(conds["Ready"]["status"], "True")
        self.assertEqual(conds["PreemptionScheduled"]["reason"], "SpotEvictionIncoming")
        self.assertNotIn("unschedulable", out["spec"])  # /status ignores spec
        self.assertNotIn("ignored", out["metadata"]["labels"])
        # Main resource: annotations merge, null deletes, taints replaced wholesale, status ignored.
        out = self.api.ok("PATCH", "/api/v1/nodes/n1", {
            "metadata": {"annotations": {"aks-node-agent/state": '{"phase":"draining"}',
                                         "node.alpha.kubernetes.io/ttl": None}},
            "spec": {"taints": [{"key": "aks-node-agent/scheduled-event", "value": "Preempt", "effect": "NoSchedule"}]},
            "status": {"conditions": []}}, smp)
        ann = out["metadata"]["annotations"]
        self.assertEqual(ann["aks-node-agent/state"], '{"phase":"draining"}')
        self.assertNotIn("node.alpha.kubernetes.io/ttl", ann)
        self.assertIn("volumes.kubernetes.io/controller-managed-attach-detach", ann)
        self.assertEqual(out["spec"]["taints"], [{"key": "aks-node-agent/scheduled-event", "value": "Preempt",
                                                  "effect": "NoSchedule"}])
        self.assertEqual(len(out["status"]["conditions"]), n_conds + 1)
        # $patch: delete removes one condition by merge key.
        out = self.api.ok("PATCH", "/api/v1/nodes/n1/status", {"status": {"conditions": [
            {"type": "PreemptionScheduled", "$patch": "delete"}]}}, smp)
        self.assertNotIn("PreemptionScheduled", [c["type"] for c in out["status"]["conditions"]])
        # RFC 7386 merge patch replaces lists; RFC 6902 JSON patch edits them.
        out = self.api.ok("PATCH", "/api/v1/nodes/n1", {"spec": {"taints": None}}, "application/merge-patch+json")
        self.assertNotIn("taints", out["spec"])
        out = self.api.ok("PATCH", "/api/v1/nodes/n1", [
            {"op": "add", "path": "/spec/taints", "value": []},
            {"op": "add", "path": "/spec/taints/-", "value": {"key": "k", "effect": "NoSchedule"}},
            {"op": "add", "path": "/metadata/labels/aks-node-agent~1x", "value": "1"}], "application/json-patch+json")
        self.assertEqual(out["spec"]["taints"], [{"key": "k", "effect": "NoSchedule"}])
        self.assertEqual(out["metadata"]["labels"]["aks-node-agent/x"], "1")
        status, _, body = self.api.request("PATCH", "/api/v1/nodes/n1", {}, "application/yaml")
        self.assertEqual((status, body["reason"]), (415, "UnsupportedMediaType"))

    def test_pagination_and_selectors(self):
        self.api.seed(node="n1", pods=25, daemonsets=2, finished=2, extraNodes=["n2"])
        self.api.seed(node="n2", pods=4, daemonsets=2)
        full = self.api.ok("GET", "/api/v1/pods")
        names, cont, pages = [], "", 0
        while True:
            page = self.api.ok("GET", "/api/v1/pods?limit=10" + ("&continue=" + cont if cont else ""))
            pages += 1
            names += ["%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]) for p in page["items"]]
            self.assertLessEqual(len(page["items"]), 10)
            cont = page["metadata"].get("continue", "")
            if not cont:
                break
            self.assertIn("remainingItemCount", page["metadata"])
        self.assertEqual(pages, 4)  # 25 + 2 + 2 + 4 + 2 = 35 pods
        self.assertEqual(names, ["%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]) for p in full["items"]])
        self.assertEqual(len(set(names)), 35)
        sel = "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1,status.phase!%3DSucceeded&limit=7"
        got, cont = [], ""
        while True:
            page = self.api.ok("GET", sel + ("&continue=" + cont if cont else ""))
            got += page["items"]
            cont = page["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(len(got), 27)
        self.assertTrue(all(p["spec"]["nodeName"] == "n1" and p["status"]["phase"] == "Running" for p in got))
        web = [p for p in got if p["metadata"]["namespace"] == "workloads"][0]
        one = self.api.ok("GET", "/api/v1/namespaces/workloads/pods?fieldSelector=metadata.name%3D" +
                          web["metadata"]["name"])
        self.assertEqual(len(one["items"]), 1)
        self.assertEqual(len(self.api.ok("GET", "/api/v1/pods?labelSelector=app%3Dweb-n2")["items"]), 4)
        self.assertEqual(len(self.api.ok("GET", "/api/v1/pods?labelSelector=app+in+(web-n1,web-n2)")["items"]), 29)
        self.assertEqual(len(self.api.ok("GET", "/api/v1/pods?labelSelector=job-name")["items"]), 2)
        self.assertEqual(len(self.api.ok("GET", "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app!%3Dkube-proxy")
                             ["items"]), 2)
        status, _, body = self.api.request("GET", "/api/v1/pods?fieldSelector=spec.bogus%3D1")
        self.assertEqual((status, body["message"]), (400, "field label not supported: spec.bogus"))

    def test_eviction_statuses(self):
        self.api.seed(node="n1", pods=2, pdb={"minAvailable": 2}, daemonsets=0, extraNodes=["spare"])
        pods = self.api.pods_on("n1")
        name = pods[0]["metadata"]["name"]
        ev = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "workloads"}}
        path = "/api/v1/namespaces/workloads/pods/%s/eviction" % name
        status, _, body = self.api.request("POST", path, ev)
        self.assertEqual(status, 429)
        self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Cannot evict pod as it would violate the pod's disruption budget.",
                                "reason": "TooManyRequests",
                                "details": {"causes": [{"reason": "DisruptionBudget",
                                                        "message": "The disruption budget web-n1-pdb needs 2 "
                                                                   "healthy pods and has 2 currently"}]},
                                "code": 429})
        # A second PDB over the same pods: 500, as the real eviction subresource answers.
        self.api.ok("POST", "/apis/policy/v1/namespaces/workloads/poddisruptionbudgets", {
            "metadata": {"name": "second"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web-n1"}}}})
        status, _, body = self.api.request("POST", path, ev)
        self.assertEqual(status, 500)
        self.assertEqual(body["message"], "This pod has more than one PodDisruptionBudget, which the eviction "
                                          "subresource does not support.")
        self.api.ok("DELETE", "/apis/policy/v1/namespaces/workloads/poddisruptionbudgets/second")
        self.api.ok("DELETE", "/apis/policy/v1/namespaces/workloads/poddisruptionbudgets/web-n1-pdb")
        # v1beta1 body and explicit grace are accepted; the pod goes, then 404s.
        ev["apiVersion"] = "policy/v1beta1"
        ev["deleteOptions"] = {"gracePeriodSeconds": 0}
        status, _, body = self.api.request("POST", path, ev)
        self.assertEqual((status, body), (201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                "status": "Success", "code": 201}))
        status, _, body = self.api.request("GET", "/api/v1/namespaces/workloads/pods/" + name)
        self.assertEqual((status, body["reason"], body["details"]), (404, "NotFound", {"name": name, "kind": "pods"}))
        status, _, body = self.api.request("POST", path, ev)
        self.assertEqual((status, body["reason"]), (404, "NotFound"))
        # Mismatched name -> 400.
        other = self.api.pods_on("n1")[0]["metadata"]["name"]
        status, _, body = self.api.request("POST", "/api/v1/namespaces/workloads/pods/%s/eviction" % other, ev)
        self.assertEqual(status, 400)

    def test_graceful_termination_and_controllers(self):
        self.api.ok("POST", "/fake/config", {"graceScale": 0.02})  # 30 s grace -> 0.6 s
        self.api.seed(node="n1", pods=1, statefulset=1, daemonsets=1, extraNodes=["spare"])
        web = [p for p in self.api.pods_on("n1") if p["metadata"]["name"].startswith("web-")][0]
        db = [p for p in self.api.pods_on("n1") if p["metadata"]["name"] == "db-n1-0"][0]
        ds = [p for p in self.api.pods_on("n1") if p["metadata"]["name"].startswith("kube-proxy-")][0]
        for p in (web, db):
            self.api.ok("POST", "/api/v1/namespaces/workloads/pods/%s/eviction" % p["metadata"]["name"],
                        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": p["metadata"]["name"]}})
        # Terminating first: deletionTimestamp and grace set, DisruptionTarget condition added.
        term = self.api.ok("GET", "/api/v1/namespaces/workloads/pods/" + web["metadata"]["name"])
        self.assertIn("deletionTimestamp", term["metadata"])
        self.assertEqual(term["metadata"]["deletionGracePeriodSeconds"], 30)
        self.assertIn("DisruptionTarget", [c["type"] for c in term["status"]["conditions"]])
        # ReplicaSet replacement exists at once on the spare node (new name), becomes Ready.
        wait_for(lambda: [p for p in self.api.pods_on("spare") if p["metadata"]["name"].startswith("web-n1-")
                          and p["status"]["phase"] == "Running"], what="web replacement running")
        wait_for(lambda: self.api.request("GET", "/api/v1/namespaces/workloads/pods/" +
                                          web["metadata"]["name"])[0] == 404, what="web pod gone")
        # StatefulSet: same name, new uid, after the old one is gone.
        new_db = wait_for(lambda: [p for p in self.api.pods_on("spare") if p["metadata"]["name"] == "db-n1-0"],
                          what="db-n1-0 recreated")[0]
        self.assertNotEqual(new_db["metadata"]["uid"], db["metadata"]["uid"])
        # DaemonSet pod deleted -> recreated on the same node.
        self.api.ok("DELETE", "/api/v1/namespaces/kube-system/pods/%s?gracePeriodSeconds=0" % ds["metadata"]["name"])
        wait_for(lambda: [p for p in self.api.pods_on("n1") if p["metadata"]["name"].startswith("kube-proxy-")
                          and p["metadata"]["uid"] != ds["metadata"]["uid"]], what="daemonset pod recreated")

    def test_events_core_and_events_k8s_io(self):
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "n1."},
              "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u1"},
              "reason": "DrainStarted", "message": "draining", "type": "Normal", "count": 1,
              "source": {"component": "aks-node-agent", "host": "n1"},
              "firstTimestamp": "2026-11-26T19:00:00Z", "lastTimestamp": "2026-11-26T19:00:00Z"}
        created = self.api.ok("POST", "/api/v1/namespaces/default/events", ev)
        name = created["metadata"]["name"]
        self.assertTrue(name.startswith("n1."))
        out = self.api.ok("PATCH", "/api/v1/namespaces/default/events/" + name,
                          {"count": 2, "lastTimestamp": "2026-11-26T19:01:00Z"}, "application/strategic-merge-patch+json")
        self.assertEqual((out["count"], out["reason"]), (2, "DrainStarted"))
        lst = self.api.ok("GET", "/api/v1/events?fieldSelector=involvedObject.name%3Dn1,reason%3DDrainStarted")
        self.assertEqual([e["metadata"]["name"] for e in lst["items"]], [name])
        new = self.api.ok("GET", "/apis/events.k8s.io/v1/namespaces/default/events")
        self.assertEqual(new["items"][0]["note"], "draining")
        self.assertEqual(new["items"][0]["regarding"]["name"], "n1")
        self.assertEqual(new["items"][0]["deprecatedCount"], 2)


class ControlApiTest(Base):
    def test_faults(self):
        self.api.seed(node="n1", pods=0, daemonsets=0)
        self.api.ok("POST", "/fake/faults", {"method": "GET", "path": "^/api/v1/nodes/n1$", "status": 503,
                                             "count": 2, "retryAfter": 1})
        for _ in range(2):
            status, headers, body = self.api.request("GET", "/api/v1/nodes/n1")
            self.assertEqual((status, body["reason"], headers.get("Retry-After")), (503, "ServiceUnavailable", "1"))
        self.assertEqual(self.api.request("GET", "/api/v1/nodes/n1")[0], 200)
        # Skip the first matching request, then fail the next PATCH with a 409 once.
        self.api.ok("POST", "/fake/faults", {"method": "PATCH", "path": "nodes/n1", "status": 409, "skip": 1})
        self.assertEqual(self.api.request("PATCH", "/api/v1/nodes/n1", {}, "application/merge-patch+json")[0], 200)
        self.assertEqual(self.api.request("PATCH", "/api/v1/nodes/n1", {}, "application/merge-patch+json")[0], 409)
        # Connection reset mid-body.
        self.api.ok("POST", "/fake/faults", {"path": "^/api/v1/nodes$", "reset": True, "status": 200})
        with self.assertRaises((http.client.IncompleteRead, ConnectionError, http.client.RemoteDisconnected,
                                json.JSONDecodeError)):
            self.api.request("GET", "/api/v1/nodes")
        self.assertEqual(self.api.request("GET", "/api/v1/nodes")[0], 200)
        # Delay, then the normal answer.
        self.api.ok("POST", "/fake/faults", {"path": "^/version$", "delayMs": 300})
        t0 = time.monotonic()
        self.assertEqual(self.api.request("GET", "/version")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        # Forever until cleared.
        self.api.ok("POST", "/fake/faults", {"path": "^/api/v1/pods", "status": 500, "count": -1})
        self.assertEqual([self.api.request("GET", "/api/v1/pods")[0] for _ in range(3)], [500, 500, 500])
        self.assertEqual(self.api.ok("GET", "/fake/faults")["faults"][-1]["hits"], 3)
        self.api.ok("DELETE", "/fake/faults")
        self.assertEqual(self.api.request("GET", "/api/v1/pods")[0], 200)

    def test_request_log_stats_and_404(self):
        self.api.seed(node="n1", pods=2, daemonsets=0)
        since = self.api.ok("GET", "/fake/requests")["last"]
        self.api.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", headers={"User-Agent": "agent/1"})
        self.api.request("PATCH", "/api/v1/nodes/n1/status", {"status": {}}, "application/strategic-merge-patch+json")
        status, _, body = self.api.request("GET", "/api/v1/nonsense")
        self.assertEqual((status, body["kind"], body["reason"]), (404, "Status", "NotFound"))
        status, _, body = self.api.request("GET", "/apis/apps/v1/namespaces/x/nodes/n1")
        self.assertEqual(status, 404)
        items = self.api.ok("GET", "/fake/requests?since=%d" % since)["items"]
        # The log is in completion order: a watch left by an earlier test (timeoutSeconds=2)
        # can end in the middle of this one. Only this test's requests count.
        items = [e for e in items if "watch=" not in (e.get("query") or "")]
        self.assertEqual([e["status"] for e in items[:4]], [200, 200, 404, 404])
        self.assertEqual(items[0]["userAgent"], "agent/1")
        self.assertEqual((items[0]["verb"], items[0]["resource"], items[0]["node"]), ("list", "pods", "n1"))
        self.assertEqual(items[1]["contentType"], "application/strategic-merge-patch+json")
        self.assertTrue(all(items[i]["seq"] < items[i + 1]["seq"] for i in range(len(items) - 1)))
        stats = self.api.ok("GET", "/fake/stats")
        self.assertEqual(stats["byNode"]["n1"]["patch nodes/status"], 1)
        self.assertGreaterEqual(stats["byVerb"]["list"], 1)

    def test_seed_idempotent_and_objects(self):
        a = self.api.seed(node="n1", pods=5, daemonsets=2, pdb=True, statefulset=1)
        b = self.api.seed(node="n1", pods=5, daemonsets=2, pdb=True, statefulset=1)
        self.assertEqual(len(self.api.pods_on("n1")), 8)
        self.assertNotEqual(a["uid"], b["uid"])
        self.assertEqual(len(self.api.ok("GET", "/apis/policy/v1/poddisruptionbudgets")["items"]), 1)
        self.assertEqual(len(self.api.ok("GET", "/apis/apps/v1/daemonsets")["items"]), 2)
        self.api.ok("POST", "/fake/objects", {"apiVersion": "v1", "kind": "Pod",
                                              "metadata": {"name": "hand", "namespace": "x"},
                                              "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]}})
        hand = self.api.ok("GET", "/api/v1/namespaces/x/pods/hand")
        self.assertEqual(hand["status"]["phase"], "Running")
        dump = self.api.ok("GET", "/fake/objects?kind=pod&node=n1")
        self.assertEqual(len(dump["items"]), 9)
        self.api.ok("POST", "/fake/reset", {})
        self.assertEqual(self.api.ok("GET", "/api/v1/nodes")["items"], [])


class NeighboursTest(Base):
    """node-problem-detector and Karpenter's node repair (fakeapi/neighbours.py)."""

    def test_condition_writer_reasserts_and_counts_overwrites(self):
        self.api.seed(node="n1", pods=0, daemonsets=0)
        wid = self.api.condition_writer("n1", "VMEventScheduled", "False", "NoVMEventScheduled",
                                        "VM has no scheduled event", interval_ms=50)
        writer = lambda: next(w for w in self.api.condition_writers() if w["id"] == wid)  # noqa: E731
        wait_for(lambda: writer()["heartbeats"] >= 2, what="heartbeats")
        self.assertEqual(writer()["overwrites"], [])
        before = {c["type"]: c for c in self.api.node("n1")["status"]["conditions"]}["VMEventScheduled"]
        # Someone else writes another value (status flip): counted, then re-asserted.
        self.api.ok("PATCH", "/api/v1/nodes/n1/status", {"status": {"conditions": [
            {"type": "VMEventScheduled", "status": "True", "reason": "Preempt", "message": "mine"}]}},
            "application/strategic-merge-patch+json")
        wait_for(lambda: writer()["overwrites"], what="the overwrite seen")
        self.assertEqual(writer()["overwrites"][0]["message"], "mine")
        after = wait_for(lambda: (c := {c["type"]: c for c in self.api.node("n1")["status"]["conditions"]}
                                  ["VMEventScheduled"])["status"] == "False" and c, what="re-asserted")
        self.assertEqual(after["message"], "VM has no scheduled event")
        self.assertEqual(before["reason"], "NoVMEventScheduled")

    def test_karpenter_repair_force_deletes_the_pods_of_a_preempted_node(self):
        seeded = self.api.seed(node="n1", pods=3, pdb={"maxUnavailable": 0}, daemonsets=1, extraNodes=["n2"])
        self.api.karpenter_repair(toleration_ms=0)
        self.api.ok("PATCH", "/api/v1/nodes/n1/status", {"status": {"conditions": [
            {"type": "PreemptionScheduled", "status": "True", "reason": "SpotEvictionIncoming", "message": "m"}]}},
            "application/strategic-merge-patch+json")
        repairs = wait_for(lambda: self.api.karpenter_repairs(), what="a repair")
        self.assertEqual(sorted(repairs[0]["podsForceDeleted"]),
                         sorted("workloads/" + p for p in seeded["pods"]["replicaset"]),
                         "PDBs bypassed, DaemonSet pods kept")
        self.assertEqual(repairs[0]["node"], "n1")
        self.assertEqual(len(self.api.karpenter_repairs()), 1, "one repair per True condition")


class LogicUnitTest(unittest.TestCase):
    """The pure logic modules, without HTTP."""

    def test_strategic_merge_directives(self):
        from fakeapi.patch import strategic_merge
        node = {"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}},
                "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}]}}
        out = strategic_merge(node, {
            "$setElementOrder/conditions": [{"type": "Ready"}, {"type": "X"}, {"type": "Y"}],
            "status": {"conditions": [{"type": "X", "status": "True"}, {"type": "Y", "status": "True"}]},
            "metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"], "labels": {"y": None}}})
        self.assertEqual(out["status"]["conditions"], [{"type": "Ready", "status": "True"},
                                                       {"type": "X", "status": "True"},
                                                       {"type": "Y", "status": "True"}])
        self.assertEqual(out["metadata"], {"finalizers": ["b"], "labels": {"x": "1"}})
        self.assertEqual(node["status"]["conditions"][1]["status"], "False")  # input untouched
        out = strategic_merge(node, {"metadata": {"labels": {"$patch": "replace", "z": "3"}}})
        self.assertEqual(out["metadata"]["labels"], {"z": "3"})
        out = strategic_merge(node, {"status": {"conditions": [{"$patch": "replace"}, {"type": "Only"}]}})
        self.assertEqual(out["status"]["conditions"], [{"type": "Only"}])

    def test_merge_and_json_patch(self):
        from fakeapi.patch import json_patch, merge_patch
        from fakeapi.util import ApiError
        # RFC 7386 appendix A examples.
        self.assertEqual(merge_patch({"a": "b"}, {"a": "c"}), {"a": "c"})
        self.assertEqual(merge_patch({"a": [{"b": "c"}]}, {"a": [1]}), {"a": [1]})
        self.assertEqual(merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}), {"a": {"b": "d"}})
        self.assertEqual(merge_patch({"e": None}, {"a": 1}), {"e": None, "a": 1})
        doc = {"a": [1, 2], "b": {"c~d": 1, "e/f": 2}, "t": True}
        out = json_patch(doc, [{"op": "add", "path": "/a/1", "value": 9}, {"op": "remove", "path": "/b/c~0d"},
                               {"op": "move", "from": "/b/e~1f", "path": "/g"}, {"op": "copy", "from": "/a", "path": "/h"},
                               {"op": "test", "path": "/t", "value": True}])
        self.assertEqual(out, {"a": [1, 9, 2], "b": {}, "t": True, "g": 2, "h": [1, 9, 2]})
        for bad in ([{"op": "test", "path": "/t", "value": 1}],  # true is not 1
                    [{"op": "replace", "path": "/nope", "value": 1}], [{"op": "add", "path": "/a/5", "value": 1}],
                    [{"op": "remove", "path": "/a/01"}]):
            with self.assertRaises(ApiError) as cm:
                json_patch(doc, bad)
            self.assertEqual(cm.exception.code, 422)

    def test_selectors(self):
        from fakeapi.selectors import FieldSelector, LabelSelector
        ls = LabelSelector.parse("app in (a, b),tier!=db,!legacy,env")
        self.assertTrue(ls.matches({"app": "b", "env": "x"}))
        self.assertFalse(ls.matches({"app": "b", "env": "x", "legacy": ""}))
        self.assertFalse(ls.matches({"app": "c", "env": "x"}))
        self.assertFalse(ls.matches({"app": "a", "tier": "db", "env": "x"}))
        self.assertTrue(LabelSelector.parse("x notin (1)").matches({}))
        sel = LabelSelector.from_object({"matchLabels": {"a": "1"},
                                         "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]})
        self.assertTrue(sel.matches({"a": "1"}) and not sel.matches({"a": "1", "b": ""}))
        fs = FieldSelector.parse(r"spec.nodeName=n\,1,status.phase!=Succeeded")
        self.assertEqual(fs.value_for("spec.nodeName"), "n,1")
        self.assertTrue(fs.matches({"spec.nodeName": "n,1", "status.phase": "Running"}))
        self.assertFalse(fs.matches({"spec.nodeName": "n,1", "status.phase": "Succeeded"}))

    def test_pdb_arithmetic(self):
        from fakeapi.controller import scaled
        self.assertEqual(scaled("50%", 3, True), 2)
        self.assertEqual(scaled("50%", 3, False), 1)
        self.assertEqual(scaled(2, 10, True), 2)


class ScaleTest(Base):
    def test_fleet_and_concurrency(self):
        t0 = time.monotonic()
        self.api.ok("POST", "/fake/seed", [{"node": "fleet-%03d" % i, "pods": 20, "daemonsets": 3}
                                           for i in range(100)])
        seed_s = time.monotonic() - t0
        self.api.seed(node="big", pods=250, daemonsets=3)
        errors, durations = [], []

        def agent(i):
            node = "fleet-%03d" % i
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=30)
                for _ in range(5):  # keep-alive: several requests per connection
                    for path in ("/api/v1/nodes/" + node, "/api/v1/pods?fieldSelector=spec.nodeName%3D" + node):
                        t = time.monotonic()
                        conn.request("GET", path)
                        r = conn.getresponse()
                        data = r.read()
                        durations.append(time.monotonic() - t)
                        if r.status != 200:
                            errors.append((path, r.status))
                    json.loads(data)
                conn.request("PATCH", "/api/v1/nodes/%s/status" % node,
                             body=json.dumps({"status": {"conditions": [{"type": "VMEventScheduled", "status": "True",
                                                                         "reason": "Preempt"}]}}),
                             headers={"Content-Type": "application/strategic-merge-patch+json"})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(("patch", r.status))
                conn.close()
            except (OSError, http.client.HTTPException) as e:
                errors.append((node, repr(e)))

        threads = [threading.Thread(target=agent, args=(i,)) for i in range(100)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        wall = time.monotonic() - t0
        self.assertEqual(errors, [])
        self.assertEqual(len(durations), 100 * 10)
        # Timings are reported, not asserted (tests/bench measures the fake under load).
        durations.sort()
        sys.stderr.write("\n  [numbers] fake apiserver: seed 100 nodes %.2fs; 100 clients x 10 GETs + PATCH %.2fs, "
                         "GET p50 %.1f ms p99 %.1f ms\n" % (seed_s, wall, durations[len(durations) // 2] * 1000,
                                                              durations[int(len(durations) * 0.99)] * 1000))
        # 250-pod node: one list, then evict everything 32 at a time.
        pods = [p for p in self.api.pods_on("big") if p["metadata"]["namespace"] == "workloads"]
        self.assertEqual(len(pods), 250)
        statuses, lock = [], threading.Lock()

        def evict(chunk):
            conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=30)
            for p in chunk:
                n = p["metadata"]["name"]
                conn.request("POST", "/api/v1/namespaces/workloads/pods/%s/eviction" % n,
                             body=json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                                              "metadata": {"name": n, "namespace": "workloads"}}),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                with lock:
                    statuses.append(r.status)
            conn.close()

        t0 = time.monotonic()
        workers = [threading.Thread(target=evict, args=(pods[i::32],)) for i in range(32)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        self.assertEqual(statuses, [201] * 250)
        wait_for(lambda: all(p["metadata"]["namespace"] != "workloads" for p in self.api.pods_on("big")),
                 what="big node drained")
        sys.stderr.write("  [numbers] 250 evictions by 32 clients -> node empty %.2fs\n" % (time.monotonic() - t0))


if __name__ == "__main__":
    if not os.path.exists(KUBECTL):
        print("kubectl not found", file=sys.stderr)
        sys.exit(2)
    unittest.main()
