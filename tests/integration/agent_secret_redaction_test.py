#!/usr/bin/env python3
"""A credential echoed by a peer never reaches the log, /status or /readyz (arch/FAULTS.md, "Attacks
on the running binary").

An API server or a proxy in front of it may quote the request's Authorization header in an
error message: whole, cut to a length, wrapped over lines (CR/LF) or split by spaces. Before
the fix the agent copied such a message verbatim into its log, /status
(kubernetes.lastError) and /readyz.

Run: python3 tests/integration/agent_secret_redaction_test.py (AKSNODE_BINARY = the agent).
"""

import base64
import os
import re
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, wait_until  # noqa: E402

WINDOW = 16  # the shortest run of a secret that must never appear


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_service_account_token() -> str:
    header = b64url(b'{"alg":"RS256","kid":"' + secrets.token_hex(20).encode() + b'"}')
    payload = b64url(b'{"aud":["https://kubernetes.default.svc"],"sub":"system:serviceaccount:kube-system:'
                     b'aks-node-agent","jti":"' + secrets.token_hex(16).encode() + b'"}')
    return f"{header}.{payload}.{b64url(secrets.token_bytes(256))}"


def leaks(text: str, secret: str) -> list:
    """Every WINDOW-long run of secret found in text, whitespace and JSON escapes of whitespace
    ignored (the log is JSON: a CR/LF in a value is written as \\r\\n)."""
    compact = re.sub(r"(\\[rnt]|\s)", "", text)
    return sorted({secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1) if secret[i:i + WINDOW] in compact})


class SecretRedactionTest(AgentTestCase):

    def echo_variants(self, token: str) -> list:
        wrapped = "\r\n".join(token[i:i + 76] for i in range(0, len(token), 76))
        spaced = " ".join(token[i:i + 40] for i in range(0, len(token), 40))
        return [
            f"proxy: rejected Authorization: Bearer {token}",
            f"upstream said:\r\nAuthorization: Bearer {wrapped}\r\n",
            f"bad header value: Bearer {spaced}",
            f"Bearer {token[:180]}",  # cut short, as a length cap would
        ]

    def test_echoed_bearer_token_is_redacted_everywhere(self):
        self.seed(pods=0, daemonsets=1)
        token = fake_service_account_token()
        kubeconfig = self.kube.write_kubeconfig(os.path.join(self.workdir, "kc"), token=token)
        for i, message in enumerate(self.echo_variants(token)):
            with self.subTest(variant=i):
                self.kube.clear_faults()
                self.kube.fault(method="GET", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=500, count=-1,
                                body={"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                      "message": message, "code": 500})
                agent = self.start_agent(kubeconfig=kubeconfig)
                status = wait_until(lambda: (s := agent.status())["kubernetes"]["lastError"] and s, 15,
                                    "the API server error in /status")
                last_error = status["kubernetes"]["lastError"]
                # The test saw the echoed text, with the token cut out.
                self.assertIn("[redacted]", last_error)
                wait_until(lambda: agent.find_log(lambda l: "[redacted]" in str(l)), 10, "the error in the log")
                code, readyz = agent.get("/readyz")
                self.assertEqual(code, 503)
                with open(agent.log_path, encoding="utf-8", errors="replace") as f:
                    log_text = f.read()
                _, status_text = agent.get("/status")
                for where, text in (("log", log_text), ("/status", status_text), ("/readyz", readyz)):
                    self.assertEqual(leaks(text, token), [], f"token leaked into {where}")
                self.assert_no_crash(agent)
                agent.terminate(5)


if __name__ == "__main__":
    main()
