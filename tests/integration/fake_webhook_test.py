#!/usr/bin/env python3
"""tests/fakes/fake_webhook.py does what the notification tests rely on: it records calls with
their time and body, answers as scripted per path (N times, then the rest), holds hung calls
until released, and forgets everything on reset. With --tls it serves HTTPS with a certificate
for the given name signed by the test CA it writes out (not self-signed), and records the SNI.

Run: python3 tests/integration/fake_webhook_test.py
"""

import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from webhook_control import FakeWebhook  # noqa: E402


def post(port: int, path: str, body: dict, timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class FakeWebhookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hooks = FakeWebhook.start()

    @classmethod
    def tearDownClass(cls):
        cls.hooks.stop()

    def setUp(self):
        self.hooks.reset()

    def test_records_calls_with_time_and_json(self):
        t0 = time.monotonic()
        self.assertEqual(post(self.hooks.port, "/a?x=1", {"reason": "ScheduledEvent"}), 200)
        calls = self.hooks.calls("/a")
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["json"], {"reason": "ScheduledEvent"})
        self.assertEqual(calls[0]["query"], "x=1")
        self.assertEqual(calls[0]["status"], 200)
        self.assertGreaterEqual(calls[0]["t_mono"], t0)
        self.assertEqual((calls[0]["tls"], calls[0]["sni"]), (False, None))
        self.assertEqual(self.hooks.calls("/b"), [])

    def test_scripted_replies_per_path_then_the_rest(self):
        self.hooks.script("/flaky", [{"status": 500, "count": 2}, {"status": 429, "headers": {"Retry-After": "1"}}],
                          then={"status": 204})
        got = [post(self.hooks.port, "/flaky", {}) for _ in range(5)]
        self.assertEqual(got, [500, 500, 429, 204, 204])
        self.assertEqual(post(self.hooks.port, "/other", {}), 200)

    def test_a_hung_call_is_recorded_unanswered_until_released(self):
        self.hooks.script("/hang", [{"hang": True, "count": -1}])
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("status", post(self.hooks.port, "/hang", {}, 30)))
        t.start()
        calls = self.hooks.wait_calls("/hang", 1, 5)
        self.assertIsNone(calls[0]["status"])
        self.assertTrue(t.is_alive())
        self.hooks.release()
        t.join(10)
        self.assertEqual(result.get("status"), 200)
        self.assertEqual(self.hooks.calls("/hang")[0]["status"], 200)

    def test_reset_forgets_scripts_and_calls(self):
        self.hooks.script("/x", [{"status": 503, "count": -1}])
        self.assertEqual(post(self.hooks.port, "/x", {}), 503)
        self.hooks.reset()
        self.assertEqual(self.hooks.calls(), [])
        self.assertEqual(post(self.hooks.port, "/x", {}), 200)


class FakeWebhookTlsTest(unittest.TestCase):
    NAME = "hooks.proxy.test"

    @classmethod
    def setUpClass(cls):
        cls.hooks = FakeWebhook.start(tls=True, name=cls.NAME)

    @classmethod
    def tearDownClass(cls):
        cls.hooks.stop()

    def post_as(self, name: str, ctx: ssl.SSLContext, path: str) -> tuple:
        """POST {} to path over TLS to 127.0.0.1, verifying the certificate for name; (status, cert)."""
        with socket.create_connection(("127.0.0.1", self.hooks.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as tls:
                tls.sendall(f"POST {path} HTTP/1.1\r\nHost: {name}\r\nContent-Length: 2\r\n"
                            "Connection: close\r\n\r\n{}".encode())
                first = tls.recv(4096).split(b"\r\n", 1)[0]
                return int(first.split()[1]), tls.getpeercert()

    def test_the_certificate_names_the_host_and_chains_to_the_written_ca(self):
        status, cert = self.post_as(self.NAME, ssl.create_default_context(cafile=self.hooks.ca_file), "/tls")
        self.assertEqual(status, 200)
        self.assertNotEqual(cert["issuer"], cert["subject"])  # signed by the CA, not self-signed
        call = self.hooks.wait_calls("/tls", 1)[0]
        self.assertEqual((call["tls"], call["sni"], call["json"]), (True, self.NAME, {}))

    def test_a_client_without_the_ca_or_for_another_name_is_refused(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.post_as(self.NAME, ssl.create_default_context(), "/untrusted")
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.post_as("other.proxy.test", ssl.create_default_context(cafile=self.hooks.ca_file), "/other")
        self.assertEqual(self.hooks.calls("/untrusted") + self.hooks.calls("/other"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
