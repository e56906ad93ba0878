#!/usr/bin/env python3
"""The real agent behind an HTTP forward proxy (issue 15): HTTPS_PROXY/HTTP_PROXY/NO_PROXY as
AKS's HTTP proxy feature sets them, tests/fakes/fake_forward_proxy.py as the proxy.

* The workload identity probe's OIDC discovery, JWKS and token exchange go to the fake Entra ID
  (tests/fakes/fake_entra.py, https, its certificate for login.entra.test made at start-up) through
  CONNECT; the name is known to the proxy only, so success means the tunnel was used, and the
  agent trusts the fake's CA only (SSL_CERT_FILE), so TLS is verified end to end. A proxy that
  terminates TLS itself (a MITM with a certificate for the right name from an untrusted CA) is
  refused.
* IMDS never goes through the proxy, even at an address the proxy rules would send there.
* The API server follows NO_PROXY: through the proxy (absolute-URI requests) without it, direct
  with its host listed.
* A proxy that answers 407: a clear error, the agent keeps running. Proxy credentials in the
  variables never show in the log, /status, /readyz or /metrics.

The fakes listen on 127.0.0.1, which the agent always reaches directly (loopback is never
proxied, agent/http/proxy_config.h); targets that may go either way are addressed as 0.0.0.0
(tests/integration/proxy_harness.py).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

from agent_harness import REPO, _die_with_parent, main, wait_until
from proxy_harness import ProxiedAgentTestCase, port_of

sys.path.insert(0, os.path.join(REPO, "tests", "fakes"))
import fake_entra  # noqa: E402  (constants only; the fake runs as a subprocess)

ENTRA_NAME = "login.entra.test"
PROXY_USER = "aks-agent"
PROXY_PASSWORD = "Pr0xy-S3cret-e2e-7731"


class FakeEntra:
    """fake_entra.py as a subprocess, its certificate also for ENTRA_NAME."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fake-entra-it-")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(REPO, "tests", "fakes", "fake_entra.py"), "--port", "0",
             "--ca-file", self.ca, "--name", ENTRA_NAME, "--exit-with-parent"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline()  # blocks until it listens (or exits)
        if not line.startswith("LISTENING "):
            self.proc.kill()
            raise RuntimeError(f"fake_entra.py did not start: {line!r}")
        self.port = int(line.split()[1])
        self.authority = f"https://{ENTRA_NAME}:{self.port}/"
        self.issuer = f"https://{ENTRA_NAME}:{self.port}/issuer/"
        self._ctx = ssl.create_default_context(cafile=self.ca)

    def control(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self._ctx) as r:
            return json.loads(r.read() or b"null")

    def requests(self) -> list:
        return self.control("GET", "/fake/requests")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def make_untrusted_certificate(directory: str) -> tuple:
    """A self-signed certificate for ENTRA_NAME that the agent does not trust (a MITM's)."""
    cert, key = os.path.join(directory, "mitm.crt"), os.path.join(directory, "mitm.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=mitm", "-addext", f"subjectAltName=DNS:{ENTRA_NAME}"],
                   check=True, capture_output=True)
    return cert, key


class ProxyTest(ProxiedAgentTestCase):
    PROXY_HOSTS = {ENTRA_NAME: "127.0.0.1"}
    entra: FakeEntra

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.entra = FakeEntra()
        except Exception:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.entra.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.entra.control("DELETE", "/fake/faults")
        self.entra.control("DELETE", "/fake/requests")

    # -- helpers ---------------------------------------------------------------------------------

    def identity_setup(self, proxy_url=None, no_proxy="", verify_signature=True, **extra_env):
        """(config overrides, env) for an agent whose identity probe talks to the fake Entra ID
        through the proxy every second."""
        token = self.entra.control("POST", "/fake/mint", {})["token"]
        token_file = os.path.join(self.workdir, "azure-identity-token")
        with open(token_file, "w") as f:
            f.write(token)
        config = {
            "healthInterval": "1s",
            "healthThreshold": 1,
            "identity": {"enabled": True, "authorityHost": self.entra.authority, "verifySignature": verify_signature,
                         "exchange": {"enabled": True, "interval": "1s"}},
        }
        env = self.proxy_env(proxy_url, no_proxy, AZURE_CLIENT_ID=fake_entra.DEFAULT_CLIENT,
                             AZURE_TENANT_ID=fake_entra.DEFAULT_TENANT, AZURE_FEDERATED_TOKEN_FILE=token_file,
                             AZURE_AUTHORITY_HOST=self.entra.authority, SSL_CERT_FILE=self.entra.ca, **extra_env)
        return config, env

    def kubeconfig_at(self, host: str) -> str:
        """A kubeconfig for the fake API server addressed as host."""
        with open(self.kubeconfig) as f:
            cfg = json.load(f)
        cfg["clusters"][0]["cluster"]["server"] = f"http://{host}:{self.kube.port}"
        path = os.path.join(self.workdir, f"kubeconfig-{host}")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def exchange_count(self, agent, result: str) -> float:
        return agent.metrics().sum("aksnode_identity_exchange_total", result=result)

    def assert_no_credentials(self, agent, *secrets_: str) -> None:
        with open(agent.log_path, encoding="utf-8", errors="replace") as f:
            log_text = f.read()
        texts = {"log": log_text,
                 "/status": agent.get("/status")[1], "/readyz": agent.get("/readyz")[1],
                 "/metrics": agent.get("/metrics")[1]}
        for where, text in texts.items():
            for secret in secrets_:
                self.assertNotIn(secret, text, f"{secret!r} appears in {where}")

    # -- (a) identity through CONNECT, TLS end to end -------------------------------------------

    def test_identity_exchange_goes_through_connect_with_tls_verified_end_to_end(self):
        config, env = self.identity_setup()
        agent = self.start_agent(config=config, env=env)
        wait_until(lambda: self.exchange_count(agent, "ok") >= 1, 20, "a successful token exchange")
        wait_until(lambda: agent.metric("aksnode_identity_token_valid") == 1, 10, "identity_token_valid 1")
        target = f"{ENTRA_NAME}:{self.entra.port}"
        connects = [r for r in self.proxy.requests() if r["method"] == "CONNECT"]
        self.assertTrue(connects, self.proxy.requests())
        for r in connects:
            self.assertEqual(r["target"], target)
            self.assertEqual(r["host"], target)  # Host header of the target on the CONNECT
            self.assertEqual(r["status"], 200)
            self.assertFalse(r["proxyAuthorization"])
        # Discovery, JWKS and the token POST all reached Entra through the tunnel.
        endpoints = {r["endpoint"] for r in self.entra.requests() if r["status"] == 200}
        self.assertLessEqual({"discovery", "jwks", "token"}, endpoints)
        # The proxy saw no plain request: the identity traffic stayed TLS inside the tunnel.
        self.assertEqual([r for r in self.proxy.requests() if r["method"] != "CONNECT"], [])
        line = agent.wait_log("outbound HTTP proxy")
        self.assertEqual(line["https"], f"{self.proxy.url} (HTTPS_PROXY)")
        self.assertEqual(line["noProxyVariable"], "unset")

    def test_a_proxy_that_intercepts_tls_is_refused(self):
        cert, key = make_untrusted_certificate(self.workdir)
        self.proxy.set_fault("mitm", cert=cert, key=key)
        config, env = self.identity_setup(verify_signature=False)
        agent = self.start_agent(config=config, env=env)
        wait_until(lambda: self.exchange_count(agent, "unreachable") >= 1, 20, "a failed token exchange")
        failed = agent.wait_log(lambda l: l.get("msg") == "identity: token exchange with Entra ID failed")
        self.assertIn("tls", failed["message"])
        self.assertIn("certificate verify failed", failed["message"])
        self.assertIn(f"via proxy {self.proxy.url}", failed["message"])
        records = [r for r in self.proxy.requests() if r["method"] == "CONNECT"]
        self.assertTrue(records)
        self.assertTrue(all(r.get("mitmHandshake") is False for r in records if "mitmHandshake" in r), records)
        self.assertEqual(self.exchange_count(agent, "ok"), 0)
        self.assertEqual([r for r in self.entra.requests() if r["endpoint"] == "token"], [])
        self.assert_no_crash(agent)

    # -- (b) IMDS is always direct ---------------------------------------------------------------

    def test_imds_never_goes_through_the_proxy_and_a_preempt_is_acted_on(self):
        # IMDS at 0.0.0.0: an address the proxy rules would send through the proxy, and NO_PROXY
        # does not name it. The kube API server is on loopback (always direct).
        self.seed(pods=2)
        imds_url = self.unproxied_url(self.imds.url)
        agent = self.start_agent(config={"imds": {"endpoint": imds_url}}, env=self.proxy_env())
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        wait_until(lambda: agent.metrics().sum("aksnode_imds_requests_total", endpoint="scheduledevents",
                                               result="ok") >= 3, 10, "IMDS polls")
        self.assertEqual(self.proxied(port_of(self.imds.url)), [])
        self.assertEqual(self.proxy.requests(), [])
        # The proxy would have forwarded it: the same URL through it works, so an empty record
        # list means the agent did not use it (not that the proxy could not serve it).
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy.url}))
        req = urllib.request.Request(imds_url + "/metadata/scheduledevents?api-version=2020-07-01",
                                     headers={"Metadata": "true"})
        with opener.open(req, timeout=5) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(len(self.proxied(port_of(self.imds.url))), 1)

    # -- (c) the API server follows NO_PROXY -----------------------------------------------------

    def test_api_server_goes_through_the_proxy_unless_no_proxy_names_it(self):
        self.seed(pods=1)
        kubeconfig = self.kubeconfig_at("0.0.0.0")
        agent = self.start_agent(kubeconfig=kubeconfig, env=self.proxy_env())
        self.wait_ready(agent)
        kube_port = self.kube.port
        via_proxy = self.proxied(kube_port)
        self.assertTrue(via_proxy, "no API server request went through the proxy")
        for r in via_proxy:
            # Plain http through a proxy: the absolute URI as request target.
            self.assertTrue(r["target"].startswith(f"http://0.0.0.0:{kube_port}/"), r)
            self.assertEqual(r["host"], f"0.0.0.0:{kube_port}")
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon through the proxy")
        self.assertTrue(any(r["method"] == "PATCH" for r in self.proxied(kube_port)))
        agent.terminate()

        # The same with NO_PROXY naming the API server's host: not one request through the proxy.
        self.imds.reset()
        self.kube.reset()
        self.seed(pods=1)
        self.proxy.clear()
        agent = self.start_agent(kubeconfig=kubeconfig, env=self.proxy_env(no_proxy="example.org, 0.0.0.0"))
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon, direct")
        self.assertEqual(self.proxied(kube_port), [])
        line = agent.wait_log("outbound HTTP proxy")
        self.assertEqual(line["noProxy"], "example.org,0.0.0.0")
        self.assertEqual(line["noProxyVariable"], "NO_PROXY")

    # -- (d) 407, (e) credentials never shown ----------------------------------------------------

    def test_proxy_refusing_credentials_is_a_clear_error_and_the_agent_keeps_running(self):
        self.proxy.auth = f"{PROXY_USER}:{PROXY_PASSWORD}"
        wrong = "Wr0ng-Pr0xy-Passw0rd-55"
        config, env = self.identity_setup(proxy_url=self.proxy.url_with(f"{PROXY_USER}:{wrong}"))
        self.seed(pods=1)
        agent = self.start_agent(config=config, env=env)
        wait_until(lambda: self.exchange_count(agent, "unreachable") >= 1, 20, "a failed token exchange")
        failed = agent.wait_log(lambda l: l.get("msg") == "identity: token exchange with Entra ID failed")
        self.assertIn(f"proxy {self.proxy.url} (HTTPS_PROXY) refused CONNECT {ENTRA_NAME}:{self.entra.port}: "
                      "HTTP 407", failed["message"])
        self.assertIn("refused the credentials in HTTPS_PROXY", failed["message"])
        records = self.proxy.requests()
        self.assertTrue(records and all(r["status"] == 407 and r["proxyAuthorization"] for r in records), records)
        # Still running and acting on IMDS (the API server is on loopback: direct).
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assert_no_crash(agent)
        self.assert_no_credentials(agent, wrong, base64.b64encode(f"{PROXY_USER}:{wrong}".encode()).decode()[:20])

    def test_proxy_credentials_are_sent_and_never_shown(self):
        self.proxy.auth = f"{PROXY_USER}:{PROXY_PASSWORD}"
        config, env = self.identity_setup(proxy_url=self.proxy.url_with(f"{PROXY_USER}:{PROXY_PASSWORD}"))
        agent = self.start_agent(config=config, env=env)
        wait_until(lambda: self.exchange_count(agent, "ok") >= 1, 20, "a successful token exchange")
        records = self.proxy.requests()
        self.assertTrue(records and all(r["authOk"] for r in records), records)
        line = agent.wait_log("outbound HTTP proxy")
        self.assertEqual(line["https"], f"{self.proxy.url} (HTTPS_PROXY, with credentials)")
        basic = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
        self.assert_no_credentials(agent, PROXY_PASSWORD, basic[:20], f"{PROXY_USER}:")

    def test_an_https_proxy_url_is_refused_with_a_clear_error(self):
        config, env = self.identity_setup(proxy_url=f"https://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{self.proxy.port}")
        agent = self.start_agent(config=config, env=env)
        line = agent.wait_log("proxy variable unusable")
        self.assertIn("HTTPS_PROXY names an https:// proxy", line["error"])
        wait_until(lambda: self.exchange_count(agent, "unreachable") >= 1, 20, "a failed token exchange")
        self.assertEqual(self.proxy.requests(), [])
        self.assert_no_credentials(agent, PROXY_PASSWORD)
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
