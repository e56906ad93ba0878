#!/usr/bin/env python3
"""Webhook notices behind an HTTP forward proxy (docs/notifications.md, docs/interface.md
"Outbound HTTP"): with HTTP_PROXY set, the notice for a Preempt goes through the proxy as an
absolute-URI request to a name only the proxy resolves, while IMDS stays direct; with NO_PROXY
naming the webhook's host it goes direct.

An https webhook goes through a CONNECT tunnel (HTTPS_PROXY): the receiver
(tests/fakes/fake_webhook.py --tls) has a certificate for hooks.proxy.test from a test CA that the
agent trusts through SSL_CERT_FILE (agent/http/http_client_impl.cpp loads the default verify
paths), so TLS is verified end to end inside the tunnel. A proxy that terminates the TLS itself
(fake_forward_proxy.py's `mitm` fault, with a certificate for the right name from a CA the agent
does not trust) gets nothing: the notice is counted `error` after one attempt (a TLS failure is
final, agent/notify/attempt_result.cpp) and never reaches the receiver.

Run: python3 tests/integration/agent_notifications_proxy_test.py (AKSNODE_BINARY = the agent).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import main, wait_until  # noqa: E402
from proxy_harness import UNPROXIED_HOST, ProxiedAgentTestCase  # noqa: E402
from webhook_control import FakeWebhook  # noqa: E402
import fake_webhook  # noqa: E402  (make_certificates for the MITM's certificate)

HOOK_NAME = "hooks.proxy.test"  # resolved by the fake proxy only
PATH = "/hooks/proxied/proxiedSecretToken0123456789"


class NotificationsProxyTest(ProxiedAgentTestCase):
    PROXY_HOSTS = {HOOK_NAME: "127.0.0.1"}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.hooks = cls.tls_hooks = None
        try:
            cls.hooks = FakeWebhook.start()
            cls.tls_hooks = FakeWebhook.start(tls=True, name=HOOK_NAME)
        except Exception:
            cls._stop_receivers()
            super().tearDownClass()
            raise

    @classmethod
    def _stop_receivers(cls) -> None:
        for hooks in (cls.hooks, cls.tls_hooks):
            if hooks is not None:
                hooks.stop()

    @classmethod
    def tearDownClass(cls) -> None:
        cls._stop_receivers()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.hooks.reset()
        self.tls_hooks.reset()
        self.seed(pods=2)

    def start(self, host: str, **env):
        url = f"http://{host}:{self.hooks.port}{PATH}"
        agent = self.start_agent(config={"notifications": {"webhooks": [
            {"name": "proxied", "url": url, "on": ["ScheduledEvent"]}]}}, env=self.proxy_env(**env))
        self.wait_ready(agent)
        return agent

    def start_https(self):
        """An agent with an https webhook at HOOK_NAME (the TLS receiver), trusting its test CA only."""
        url = f"https://{HOOK_NAME}:{self.tls_hooks.port}{PATH}"
        agent = self.start_agent(config={"notifications": {"webhooks": [
            {"name": "proxied", "url": url, "on": ["ScheduledEvent"]}]}},
            env=self.proxy_env(SSL_CERT_FILE=self.tls_hooks.ca_file))
        self.wait_ready(agent)
        return agent

    def notices(self, agent, result: str):
        return agent.metrics().value("aksnode_notifications_total", webhook="proxied", result=result)

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

    def test_an_https_webhook_goes_through_a_connect_tunnel(self):
        agent = self.start_https()
        ev = self.imds.add_event("Preempt", not_before_in=60)
        call = self.tls_hooks.wait_calls(PATH, 1, 10)[0]
        self.assertEqual(call["json"]["eventId"], ev["EventId"])
        self.assertTrue(call["tls"])
        self.assertEqual(call["sni"], HOOK_NAME)  # the agent asked for the webhook's name in the tunnel
        wait_until(lambda: self.notices(agent, "ok") == 1, 10, "the tunnelled notice counted ok")
        # One CONNECT to the name only the proxy resolves, answered 200; nothing else went through
        # the proxy (the POST stayed inside the tunnel; IMDS and the API server are on loopback).
        records = self.proxy.requests()
        self.assertEqual([(r["method"], r["target"], r["status"]) for r in records],
                         [("CONNECT", f"{HOOK_NAME}:{self.tls_hooks.port}", 200)], records)
        self.assertEqual(records[0]["host"], f"{HOOK_NAME}:{self.tls_hooks.port}")

    def test_a_proxy_that_intercepts_the_webhooks_tls_gets_no_notice(self):
        rogue = os.path.join(self.workdir, "rogue-ca")
        os.mkdir(rogue)
        # The right name, signed by a CA the agent does not trust: what a TLS-inspecting proxy
        # presents; only the chain is wrong.
        _ca, cert, key = fake_webhook.make_certificates(rogue, HOOK_NAME)
        self.proxy.set_fault("mitm", cert=cert, key=key)
        agent = self.start_https()
        self.imds.add_event("Preempt", not_before_in=60)
        wait_until(lambda: self.notices(agent, "error") == 1, 15, "the intercepted notice counted error")
        line = agent.wait_log(lambda l: l.get("msg") == "webhook notice not delivered")
        self.assertEqual((line["result"], line["attempts"]), ("error", 1))  # a TLS failure is final
        self.assertIn("certificate verify failed", line["error"])
        self.assertNotIn("proxiedSecretToken", json.dumps(line))  # the URL's secret stays out of the log
        self.assertEqual((self.notices(agent, "ok"), self.notices(agent, "timeout")), (0, 0))
        # The proxy's TLS handshake failed (the mitm fault records mitmHandshake once it ends).
        connects = wait_until(lambda: [r for r in self.proxy.requests() if "mitmHandshake" in r], 10,
                              "the proxy's side of the handshake ended")
        self.assertEqual([(r["method"], r["target"], r["mitmHandshake"]) for r in connects],
                         [("CONNECT", f"{HOOK_NAME}:{self.tls_hooks.port}", False)])
        self.assertEqual(self.tls_hooks.calls(PATH), [])
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
