"""Helpers for integration tests of the real agent behind an HTTP forward proxy (issue 15).

    from proxy_harness import ProxiedAgentTestCase, proxy_env, UNPROXIED_HOST

    class MyTest(ProxiedAgentTestCase):
        PROXY_HOSTS = {"hooks.proxy.test": "127.0.0.1"}     # names only the proxy resolves

        def test_x(self):
            agent = self.start_agent(env=self.proxy_env())   # HTTPS_PROXY/HTTP_PROXY = the fake
            ...
            self.proxy.requests()                            # what went through it

* `self.proxy` is a fresh tests/fakes/fake_forward_proxy.py FakeForwardProxy per test (in this
  process, on loopback), stopped after the test.
* `proxy_env()` is the agent's environment without any proxy variable inherited from the test
  runner, plus the ones given.
* The agent sends localhost and loopback addresses direct whatever the variables say
  (agent/http/proxy_config.h), and the fakes listen on 127.0.0.1. A target that may go either
  way is therefore addressed as `UNPROXIED_HOST` (0.0.0.0: Linux connects it to this host's
  listeners, yet it is not a loopback address to the proxy rules): the proxy's records then say
  whether the request went through it. A name in PROXY_HOSTS (say hooks.proxy.test) is known to
  the proxy only: a request that arrives there must have gone through the proxy.

For a webhook through the proxy: point the webhook URL at http://hooks.proxy.test:<receiver
port>/... with PROXY_HOSTS = {"hooks.proxy.test": "127.0.0.1"}; the notice must arrive, and
self.proxy.requests() must show `GET/POST http://hooks.proxy.test:<port>/...` (absolute URI).
"""

from __future__ import annotations

from typing import Optional

from agent_harness import AgentTestCase, clean_env
from fake_forward_proxy import FakeForwardProxy

UNPROXIED_HOST = "0.0.0.0"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


def proxy_env(**extra: str) -> dict:
    """clean_env() without inherited proxy variables (either case), plus extra."""
    env = {k: v for k, v in clean_env().items() if k.lower() not in _PROXY_VARIABLES}
    env.update(extra)
    return env


class ProxiedAgentTestCase(AgentTestCase):
    PROXY_HOSTS: dict = {}
    PROXY_AUTH: Optional[str] = None  # "user:pass" the proxy requires

    def setUp(self) -> None:
        super().setUp()
        self.proxy = FakeForwardProxy(hosts=self.PROXY_HOSTS, auth=self.PROXY_AUTH).start()
        self.addCleanup(self.proxy.stop)

    def proxy_env(self, proxy_url: Optional[str] = None, no_proxy: str = "", **extra: str) -> dict:
        url = proxy_url or self.proxy.url
        env = proxy_env(HTTPS_PROXY=url, HTTP_PROXY=url, **extra)
        if no_proxy:
            env["NO_PROXY"] = no_proxy
        return env

    def proxied(self, port: int) -> list:
        """Proxy records whose target names this port (absolute URI or CONNECT)."""
        return [r for r in self.proxy.requests() if f":{port}/" in r["target"] or r["target"].endswith(f":{port}")]

    def unproxied_url(self, url: str) -> str:
        """http://127.0.0.1:P/... -> http://0.0.0.0:P/... (see the module docstring)."""
        return url.replace("127.0.0.1", UNPROXIED_HOST, 1)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])

