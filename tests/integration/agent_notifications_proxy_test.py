#!/usr/bin/env python3
"""Webhook notices behind an HTTP forward proxy (docs/notifications.md, docs/interface.md
"Outbound HTTP"): with HTTP_PROXY set, the notice for a Preempt goes through the proxy as an
absolute-URI request to a name only the proxy resolves, while IMDS stays direct; with NO_PROXY
naming the webhook's host it goes direct.

Run: python3 tests/integration/agent_notifications_proxy_test.py (AKSNODE_BINARY = the agent).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import main, wait_until  # noqa: E402
from proxy_harness import UNPROXIED_HOST, ProxiedAgentTestCase  # noqa: E402
from webhook_control import FakeWebhook  # noqa: E402

HOOK_NAME = "hooks.proxy.test"  # resolved by the fake proxy only
PATH = "/hooks/proxied/proxiedSecretToken0123456789"


class NotificationsProxyTest(ProxiedAgentTestCase):
    PROXY_HOSTS = {HOOK_NAME: "127.0.0.1"}

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
        self.seed(pods=2)

    def start(self, host: str, **env):
        url = f"http://{host}:{self.hooks.port}{PATH}"
        agent = self.start_agent(config={"notifications": {"webhooks": [
            {"name": "proxied", "url": url, "on": ["ScheduledEvent"]}]}}, env=self.proxy_env(**env))
        self.wait_ready(agent)
        return agent

    def test_a_webhook_goes_through_the_proxy_and_imds_does_not(self):
        agent = self.start(HOOK_NAME)
        ev = self.imds.add_event("Preempt", not_before_in=60)
        call = self.hooks.wait_calls(PATH, 1, 10)[0]
        self.assertEqual(call["json"]["eventId"], ev["EventId"])
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="proxied", result="ok") == 1,
                   10, "the proxied notice counted ok")
        posts = [r for r in self.proxy.requests() if r["method"] == "POST"]
        self.assertEqual([r["target"] for r in posts], [f"http://{HOOK_NAME}:{self.hooks.port}{PATH}"])
        self.assertFalse([t for t in self.proxy.targets() if "metadata" in t], "IMDS went through the proxy")

    def test_no_proxy_naming_the_webhook_host_sends_it_direct(self):
        agent = self.start(UNPROXIED_HOST, NO_PROXY=UNPROXIED_HOST)
        self.imds.add_event("Preempt", not_before_in=60)
        self.hooks.wait_calls(PATH, 1, 10)
        wait_until(lambda: agent.metrics().value("aksnode_notifications_total", webhook="proxied", result="ok") == 1,
                   10, "the direct notice counted ok")
        self.assertEqual([r for r in self.proxy.requests() if r["method"] == "POST"], [])


if __name__ == "__main__":
    main()
