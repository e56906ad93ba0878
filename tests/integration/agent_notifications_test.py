#!/usr/bin/env python3
"""The real agent's webhook notices (issue 15, docs/notifications.md) against a local receiver
(tests/fakes/fake_webhook.py): json, slack and teams bodies for a Preempt and its drain result;
a receiver that answers 500 twice; one that hangs while the cordon and the evictions go ahead;
the URL nowhere in logs, /status, /metrics or --check-config.

Run: python3 tests/integration/agent_notifications_test.py (AKSNODE_BINARY = the agent).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, run_agent_command, wait_until  # noqa: E402
from webhook_control import FakeWebhook  # noqa: E402  (agent_harness put tests/fakes on the path)

# Paths that look like the credentials they stand for: none of them may leak.
SLACK_PATH = "/services/T0AKS0NODE/B0AGENT00/slackSecretToken0123456789"
TEAMS_PATH = "/workflows/0aks0node0agent/triggers/manual/paths/invoke"
TEAMS_QUERY = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teamsSecretSignature0123456789"
JSON_PATH = "/hooks/json/jsonSecretToken0123456789"
SECRETS = ("slackSecretToken0123456789", "teamsSecretSignature0123456789", "jsonSecretToken0123456789",
           "hungSecretToken0123456789", "flakySecretToken0123456789", "fileSecretToken0123456789")


class NotificationsTest(AgentTestCase):

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.hooks = FakeWebhook.start()
        except Exception:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.hooks.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.hooks.reset()

    # -- helpers -------------------------------------------------------------------------------

    def webhook(self, name: str, path: str, fmt: str = "json", **extra) -> dict:
        return dict({"name": name, "url": self.hooks.url(path), "format": fmt}, **extra)

    def cordon_request(self, since: int) -> dict:
        """The first node PATCH the API server accepted after `since`: the cordon (with taint and annotation)."""
        patches = [r for r in self.kube.requests(since=since, method="PATCH")
                   if r["resource"] == "nodes" and r["status"] == 200]
        self.assertTrue(patches, "no node PATCH accepted")
        return patches[0]

    def notices(self, path: str, reason: str) -> list:
        return [c for c in self.hooks.calls(path) if self.reason_of(c) == reason]

    @staticmethod
    def reason_of(call: dict) -> str:
        body = call.get("json") or {}
        if "reason" in body:
            return body["reason"]
        text = json.dumps(body)
        for reason in ("ScheduledEvent", "DrainSucceeded", "DrainFailed", "EvictionBlocked"):
            if f'"value": "{reason}"' in text or f"*Reason*\\n{reason}" in text:
                return reason
        return ""

    @staticmethod
    def read(path: str) -> str:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def assert_no_secret(self, where: str, text: str) -> None:
        for s in SECRETS:
            self.assertNotIn(s, text, f"webhook URL credential {s} leaked into {where}")

    # -- tests -------------------------------------------------------------------------------------

    def test_json_slack_and_teams_get_the_preempt_and_the_drain_result(self):
        self.seed(pods=6, extraNodes=["spare-1"])
        agent = self.start_agent(config={"notifications": {"webhooks": [
            self.webhook("generic", JSON_PATH),
            self.webhook("slack", SLACK_PATH, "slack"),
            self.webhook("teams", TEAMS_PATH + TEAMS_QUERY, "teams"),
        ]}})
        self.wait_ready(agent)
        m = agent.metrics()
        for w in ("generic", "slack", "teams"):
            for r in ("ok", "error", "timeout"):
                self.assertEqual(m.value("aksnode_notifications_total", webhook=w, result=r), 0, (w, r))
        seq = self.kube.last_request_seq()
        ev = self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 30)

        for path in (JSON_PATH, SLACK_PATH, TEAMS_PATH):
            self.hooks.wait_calls(path, 1, 10, where=lambda c: self.reason_of(c) == "ScheduledEvent")
            self.hooks.wait_calls(path, 1, 10, where=lambda c: self.reason_of(c) == "DrainSucceeded")

        # json: exactly the documented fields (docs/notifications.md).
        notice = self.notices(JSON_PATH, "ScheduledEvent")[0]
        body = notice["json"]
        self.assertEqual(set(body), {"node", "vm", "reason", "eventType", "eventId", "notBefore", "message", "time"})
        self.assertEqual(body["node"], self.NODE_NAME)
        self.assertEqual(body["vm"], self.VM_NAME)
        self.assertEqual(body["eventType"], "Preempt")
        self.assertEqual(body["eventId"], ev["EventId"])
        self.assertRegex(body["notBefore"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(body["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(notice["headers"].get("Content-Type"), "application/json")
        drained = self.notices(JSON_PATH, "DrainSucceeded")[0]["json"]
        self.assertEqual(drained["eventId"], ev["EventId"])
        self.assertIn("Drained in", drained["message"])
        # slack: text (and blocks); teams: a message with one Adaptive Card.
        slack = self.notices(SLACK_PATH, "ScheduledEvent")[0]["json"]
        self.assertIn(f"Preempt scheduled for node {self.NODE_NAME}", slack["text"])
        self.assertIsInstance(slack.get("blocks"), list)
        teams_call = self.notices(TEAMS_PATH, "ScheduledEvent")[0]
        self.assertIn("sig=teamsSecretSignature0123456789", teams_call["query"])  # the query reached it
        teams = teams_call["json"]
        self.assertEqual(teams["type"], "message")
        self.assertEqual(teams["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive")
        self.assertEqual(teams["attachments"][0]["content"]["type"], "AdaptiveCard")

        # The notice leaves within a second of the cordon (it is sent as the event is seen).
        cordon = self.cordon_request(seq)
        cordon_done = cordon["t"] + cordon["durationMs"] / 1000.0
        for fmt, path in (("json", JSON_PATH), ("slack", SLACK_PATH), ("teams", TEAMS_PATH)):
            received = self.notices(path, "ScheduledEvent")[0]["t_mono"]
            delta = received - cordon_done
            sys.stderr.write(f"\n  [numbers] {fmt}: cordon accepted by the API server -> Preempt notice received "
                             f"{delta * 1000:+.1f} ms\n")
            self.assertLess(abs(delta), 1.0)
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="teams", result="ok") >= 2,
                   10, "teams notices counted")
        m = agent.metrics()
        for w in ("generic", "slack", "teams"):
            self.assertGreaterEqual(m.value("aksnode_notifications_total", webhook=w, result="ok"), 2, w)
            self.assertEqual(m.value("aksnode_notifications_total", webhook=w, result="error"), 0, w)

    def test_a_receiver_answering_500_twice_gets_it_on_the_third_attempt(self):
        path = "/hooks/flaky/flakySecretToken0123456789"
        self.hooks.script(path, [{"status": 500, "count": 2}])
        self.seed(pods=2)
        agent = self.start_agent(config={"notifications": {"webhooks": [
            self.webhook("flaky", path, on=["ScheduledEvent"])]}})
        self.wait_ready(agent)
        ev = self.imds.add_event("Preempt", not_before_in=60)
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="flaky", result="ok") == 1,
                   15, "the notice counted ok")
        calls = self.hooks.calls(path)
        self.assertEqual([c["status"] for c in calls], [500, 500, 200])
        self.assertTrue(all(c["json"]["eventId"] == ev["EventId"] for c in calls))
        gaps = [b["t_mono"] - a["t_mono"] for a, b in zip(calls, calls[1:])]
        self.assertGreaterEqual(gaps[0], 0.12)  # backoff: at least half of 250 ms
        self.assertGreaterEqual(gaps[1], 0.24)
        self.assertLess(calls[-1]["t_mono"] - calls[0]["t_mono"], 5.0)  # inside the 5 s budget
        self.assertEqual(agent.metric("aksnode_notifications_total", webhook="flaky", result="error"), 0)
        line = agent.wait_log("webhook notice delivered")
        self.assertEqual(line.get("attempts"), 3)

    def test_a_hanging_receiver_times_out_while_the_cordon_and_evictions_go_ahead(self):
        hung = "/hooks/hung/hungSecretToken0123456789"
        self.hooks.script(hung, [{"hang": True, "count": -1}])
        self.seed(pods=6, extraNodes=["spare-1"])
        budget = 8.0
        agent = self.start_agent(config={"notifications": {"webhooks": [
            self.webhook("hung", hung, timeout="8s")]}})
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Preempt", not_before_in=60)
        first = self.hooks.wait_calls(hung, 1, 10)[0]
        self.wait_phase("drained", 30)
        # The drain ended while the first notice was still waiting for its answer: nothing waited for it.
        self.assertIsNone(self.hooks.calls(hung)[0]["status"], "the hung call was answered?")
        self.assertEqual(agent.metric("aksnode_notifications_total", webhook="hung", result="timeout"), 0)
        cordon = self.cordon_request(seq)
        evictions = [r for r in self.kube.requests(since=seq, resource="pods/eviction", method="POST")
                     if r["status"] == 201]
        self.assertEqual(len(evictions), 6)
        last_eviction = max(r["t"] for r in evictions)
        self.assertLess(cordon["t"] - first["t_mono"], 1.0, "the cordon waited for the webhook")
        self.assertLess(last_eviction, first["t_mono"] + budget, "the evictions waited for the webhook")
        sys.stderr.write(f"\n  [numbers] hung receiver: notice received -> cordon PATCH "
                         f"{(cordon['t'] - first['t_mono']) * 1000:+.1f} ms, -> last eviction "
                         f"{(last_eviction - first['t_mono']) * 1000:+.1f} ms (budget {budget:.0f} s)\n")
        # Then the budget ends it: counted as a timeout, not retried beyond it.
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="hung", result="timeout") >= 1,
                   budget + 5, "the hung notice counted as a timeout")
        line = agent.wait_log(lambda l: l.get("msg") == "webhook notice not delivered" and l.get("result") == "timeout")
        self.assertLessEqual(float(line["seconds"]), budget + 0.5)
        self.assertEqual(line.get("attempts"), 1)

    def test_the_url_is_nowhere_in_logs_status_metrics_or_check_config(self):
        url_file = os.path.join(self.workdir, "webhook-url")
        with open(url_file, "w") as f:
            f.write(self.hooks.url("/hooks/file/fileSecretToken0123456789") + "\n")
        refused = "/hooks/refused/jsonSecretToken0123456789"
        self.hooks.script(refused, [{"status": 404, "count": -1}])
        self.seed(pods=2)
        webhooks = [
            self.webhook("refused", refused, on=["ScheduledEvent", "Cordoned"]),
            # Nobody listens there: connection refused, retried, error.
            {"name": "unreachable", "url": "http://127.0.0.1:9/hooks/slackSecretToken0123456789", "retries": 1},
            {"name": "from-file", "urlFile": url_file, "format": "slack"},
        ]
        agent = self.start_agent(config={"notifications": {"webhooks": webhooks}}, args=["--log-level", "debug"])
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=60)
        self.hooks.wait_calls("/hooks/file/fileSecretToken0123456789", 1, 10)
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="unreachable",
                                                 result="error") >= 1, 15, "the unreachable webhook's error")
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="refused",
                                                 result="error") >= 2, 15, "the refused webhook's errors")
        self.assertEqual(len(self.hooks.calls(refused)), 2, "a 404 must not be retried")
        status = agent.get("/status")[1]
        self.assertIn('"notifications"', status)
        self.assertIn('"from-file"', status)
        for where, text in (("/status", status), ("/metrics", agent.get("/metrics")[1]),
                            ("/readyz", agent.get("/readyz")[1]), ("the log", self.read(agent.log_path))):
            self.assert_no_secret(where, text)
        self.assertIn("webhook notice not delivered", self.read(agent.log_path))
        r = run_agent_command(["--check-config", "--config", agent.config_path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_no_secret("--check-config", r.stdout + r.stderr)
        self.assertIn("http://127.0.0.1:9/[redacted]", r.stdout)
        self.assertIn(url_file, r.stdout)

    def test_a_dry_run_still_notifies_and_says_so(self):
        self.seed(pods=2)
        agent = self.start_agent(config={"notifications": {"webhooks": [self.webhook("generic", JSON_PATH)]}},
                                 args=["--dry-run"])
        self.imds.add_event("Preempt", not_before_in=60)
        call = self.hooks.wait_calls(JSON_PATH, 1, 10, where=lambda c: self.reason_of(c) == "ScheduledEvent")[0]
        self.assertTrue(call["json"]["message"].startswith("[dry run] "), call["json"])
        self.assertFalse(self.node()["spec"].get("unschedulable"))
        self.assertEqual(agent.metric("aksnode_notifications_total", webhook="generic", result="error"), 0)


if __name__ == "__main__":
    main()
