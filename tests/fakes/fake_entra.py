#!/usr/bin/env python3
"""A fake of Microsoft Entra ID's token endpoint and of a Kubernetes OIDC issuer, for the
aks-node-agent workload identity probe (arch/ARCHITECTURE.md, "Health probes"). Python 3 standard
library plus the `openssl` command line tool (RSA keys, signatures, the TLS certificate).

    python3 tests/fakes/fake_entra.py --port 0 --port-file /tmp/entra.port --ca-file /tmp/entra-ca.pem
    -> prints "LISTENING <port>" on stdout once the socket accepts connections.

One HTTPS server (a self-signed certificate made at start-up for 127.0.0.1 and localhost, and
--name NAME if given (the issuer URL then names it too),
written to --ca-file so the agent can trust it; --plain-http for tests that use the agent's
test-only insecure switch) plays both parts:

Issuer (what the kube-apiserver publishes for an AKS OIDC issuer):
    GET  /issuer/.well-known/openid-configuration   {"issuer": "https://127.0.0.1:PORT/issuer/", "jwks_uri": ...}
    GET  /issuer/openid/v1/jwks                      {"keys": [{"kty":"RSA","use":"sig","alg":"RS256","kid":...,"n":...,"e":...}]}
  The issuer URL ends with a slash, like AKS's. Keys are generated at start-up; kid is the
  base64url SHA-256 of the DER public key, as the kube-apiserver computes it.

Entra ID (workload identity federation, client credentials grant):
    POST /{tenant}/oauth2/v2.0/token   form: client_id, scope, grant_type=client_credentials,
         client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion
  Checks, in this order, each failure answering the JSON error shape of the real service
  ({"error", "error_description": "AADSTS<n>: ...\\r\\nTrace ID: ...\\r\\nCorrelation ID: ...\\r\\nTimestamp: ...",
  "error_codes": [n], "timestamp", "trace_id", "correlation_id", "error_uri"}):
    missing form parameter                       400 invalid_request        AADSTS900144
    unknown tenant                               400 invalid_request        AADSTS90002
    grant_type not client_credentials            400 unsupported_grant_type AADSTS70003
    wrong client_assertion_type                  400 invalid_request        AADSTS90014
    scope without /.default                      400 invalid_scope          AADSTS1002012
    unknown client_id                            400 unauthorized_client    AADSTS700016
    assertion not a JWT                          400 invalid_client         AADSTS50027
    exp - iat over 24 h                          400 invalid_client         AADSTS70023
    outside [nbf - 5 min, exp + 5 min]           401 invalid_client         AADSTS700024
    no credential of the client has the issuer   401 invalid_client         AADSTS700211
    issuer matches, subject or audience do not   400 invalid_request        AADSTS70021
    issuer discovery unreachable (fault, or an
      issuer other than this fake's)             400 invalid_request        AADSTS90061
    kid not published / signature wrong          401 invalid_client         AADSTS50013
    otherwise                                    200 {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"<opaque>"}
  With --legacy-70021 every issuer/subject/audience mismatch answers 70021 (older behaviour).

Control API (JSON in and out):
    GET    /fake/health
    POST   /fake/mint        {"sub", "aud", "lifetime", "iatOffset", "nbfOffset", "iss", "kid", "alg",
                              "claims": {...merged; null removes...}, "tamper": bool} -> {"token": "..."}
           Defaults: a token like the kubelet projects (aud api://AzureADTokenExchange, 1 h, this issuer,
           the default subject, kubernetes.io claims). alg "none" gives an unsigned token.
    POST   /fake/keys/rotate {"keepOld": true}  -> new signing key (published), {"kid": ...}
    GET    /fake/credentials / PUT /fake/credentials  {"clientId": [{"issuer", "subject", "audiences": [...]}]}
    POST   /fake/faults      {"endpoint": "token"|"discovery"|"jwks"|"issuer", "status": 503, "body": "...",
                              "count": 1 (-1 = until cleared), "delayMs": 0, "hang": false, "close": false}
           endpoint "issuer" makes the token endpoint answer AADSTS90061 (Entra cannot reach the issuer).
    DELETE /fake/faults
    GET    /fake/requests    [{"t", "method", "path", "endpoint", "status", "form": {...,
                              "client_assertion_sha256"}}]  -- the assertion itself is never stored
    DELETE /fake/requests

SIGTERM/SIGINT stop it at once, even while requests hang (exit code 0).
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import deque
from typing import Any, Optional

from fake_process import HandshakeOnRequestThread

AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DEFAULT_CLIENT = "0a1b2c3d-0000-4000-8000-00000000c1d0"
DEFAULT_SUBJECT = "system:serviceaccount:aks-node-agent:aks-node-agent"
SKEW = 300  # Entra ID tolerates five minutes of clock skew
MAX_BODY = 1 << 20


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _openssl(*args: str, data: Optional[bytes] = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


class SigningKey:
    """An RSA key pair in a private temporary directory; signs and verifies with openssl."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, f"key-{uuid.uuid4().hex}.pem")
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.path)
        os.chmod(self.path, 0o600)
        self.public_path = self.path + ".pub"
        _openssl("pkey", "-in", self.path, "-pubout", "-out", self.public_path)
        der = _openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
        self.kid = b64url(hashlib.sha256(der).digest())
        text = _openssl("pkey", "-in", self.path, "-text_pub", "-noout").decode()
        modulus = text.split("Modulus:")[1].split("Exponent:")[0]
        self.n = bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", modulus)).lstrip(b"\0")
        self.e = int(text.split("Exponent:")[1].split()[0])

    def jwk(self) -> dict:
        e = self.e.to_bytes((self.e.bit_length() + 7) // 8, "big")
        return {"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256", "n": b64url(self.n), "e": b64url(e)}

    def sign(self, data: bytes) -> bytes:
        return _openssl("dgst", "-sha256", "-sign", self.path, data=data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(self.path)) as sig:
            sig.write(signature)
            sig.flush()
            result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.public_path, "-signature", sig.name],
                                    input=data, capture_output=True)
        return result.returncode == 0


class FakeEntraState:
    def __init__(self, workdir: str, tenant: str, client_id: str, subject: str, legacy_70021: bool) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workdir = workdir
        self.tenant = tenant
        self.default_subject = subject
        self.legacy_70021 = legacy_70021
        self.issuer = ""  # set once the port is known
        self.keys: list[SigningKey] = [SigningKey(workdir)]
        self.credentials: dict[str, list[dict]] = {client_id: []}  # filled in by set_issuer
        self.faults: dict[str, deque] = {}
        self.requests: deque = deque(maxlen=10000)

    def set_issuer(self, issuer: str) -> None:
        self.issuer = issuer
        for creds in self.credentials.values():
            if not creds:
                creds.append({"issuer": issuer, "subject": self.default_subject, "audiences": [AUDIENCE]})

    @property
    def signer(self) -> SigningKey:
        return self.keys[-1]

    def take_fault(self, endpoint: str) -> Optional[dict]:
        with self.lock:
            queue = self.faults.get(endpoint)
            if not queue:
                return None
            fault = queue[0]
            if fault.get("count", 1) > 0:
                fault["count"] = fault.get("count", 1) - 1
                if fault["count"] == 0:
                    queue.popleft()
            return dict(fault)

    def mint(self, spec: dict) -> str:
        now = int(time.time())
        iat = now + int(spec.get("iatOffset", 0))
        lifetime = int(spec.get("lifetime", 3600))
        subject = spec.get("sub", self.default_subject)
        parts = subject.split(":")
        namespace, account = (parts[2], parts[3]) if len(parts) == 4 else ("default", "default")
        claims: dict[str, Any] = {
            "aud": spec.get("aud", [AUDIENCE]),
            "exp": iat + lifetime,
            "iat": iat,
            "iss": spec.get("iss", self.issuer),
            "kubernetes.io": {
                "namespace": namespace,
                "node": {"name": "aks-spot-12345678-vmss000001", "uid": str(uuid.uuid4())},
                "pod": {"name": f"{account}-{secrets.token_hex(3)}", "uid": str(uuid.uuid4())},
                "serviceaccount": {"name": account, "uid": str(uuid.uuid4())},
            },
            "nbf": iat + int(spec.get("nbfOffset", 0)),
            "sub": subject,
        }
        for key, value in (spec.get("claims") or {}).items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        alg = spec.get("alg", "RS256")
        header = {"alg": alg, "kid": spec.get("kid", self.signer.kid)}
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        if str(alg).lower() == "none":
            return signing_input + "."
        signature = bytearray(self.signer.sign(signing_input.encode()))
        if spec.get("tamper"):
            signature[len(signature) // 2] ^= 0x01
        return signing_input + "." + b64url(bytes(signature))


def _aadsts_error(status: int, error: str, code: int, text: str) -> tuple[int, dict]:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def exchange(state: FakeEntraState, tenant: str, form: dict[str, str]) -> tuple[int, dict]:
    """The token endpoint's decision, as a pure function of the state and the form."""
    for name in ("client_id", "grant_type", "client_assertion_type", "client_assertion", "scope"):
        if not form.get(name):
            return _aadsts_error(400, "invalid_request", 900144,
                                 f"The request body must contain the following parameter: '{name}'.")
    if tenant.lower() != state.tenant.lower():
        return _aadsts_error(400, "invalid_request", 90002,
                             f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                             "signing into the correct cloud.")
    if form["grant_type"] != "client_credentials":
        return _aadsts_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
    if form["client_assertion_type"] != ASSERTION_TYPE:
        return _aadsts_error(400, "invalid_request", 90014,
                             "The required field 'client_assertion_type' is missing from the credential.")
    if not form["scope"].endswith("/.default"):
        return _aadsts_error(400, "invalid_scope", 1002012,
                             f"The provided value for scope {form['scope']} is not valid. Client credential flows "
                             "must have a scope value with /.default suffixed to the resource identifier.")
    with state.lock:
        credentials = [dict(c) for c in state.credentials.get(form["client_id"].lower(), [])]
        known = form["client_id"].lower() in state.credentials
        keys = {k.kid: k for k in state.keys}
    if not known:
        return _aadsts_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{form['client_id']}' was not found in the directory "
                             f"'{tenant}'. This can happen if the application has not been installed by the "
                             "administrator of the tenant or consented to by any user in the tenant. You may have "
                             "sent your authentication request to the wrong tenant.")
    assertion = form["client_assertion"]
    try:
        header_b64, payload_b64, signature_b64 = assertion.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(payload_b64))
        signature = b64url_decode(signature_b64)
        iss, sub = claims["iss"], claims["sub"]
        aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        exp, iat, nbf = int(claims["exp"]), int(claims.get("iat", 0)), int(claims.get("nbf", claims.get("iat", 0)))
        if not isinstance(header, dict) or not isinstance(iss, str) or not isinstance(sub, str):
            raise ValueError("types")
    except (ValueError, KeyError, TypeError):
        return _aadsts_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
    if iat and exp - iat > 86400:
        return _aadsts_error(400, "invalid_client", 70023,
                             "The lifetime of the presented assertion is too long; it must not exceed 24 hours.")
    now = int(time.time())
    if now > exp + SKEW or now < nbf - SKEW:
        fmt = lambda t: _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        return _aadsts_error(401, "invalid_client", 700024,
                             f"Client assertion is not within its valid time range. Current time: {fmt(now)}, "
                             f"assertion valid from {fmt(nbf)}, expiry time of assertion {fmt(exp)}. Review the "
                             "documentation at https://docs.microsoft.com/azure/active-directory/develop/"
                             "active-directory-certificate-credentials .")
    by_issuer = [c for c in credentials if c["issuer"] == iss]
    mismatch_text = (f"No matching federated identity record found for presented assertion. Assertion Issuer: "
                     f"'{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{','.join(map(str, aud))}'. "
                     "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation")
    if not by_issuer:
        if state.legacy_70021:
            return _aadsts_error(400, "invalid_request", 70021, mismatch_text)
        return _aadsts_error(401, "invalid_client", 700211,
                             f"No matching federated identity record found for presented assertion issuer '{iss}'. "
                             "Please check your federated identity credential Subject, Audience and Issuer against "
                             "the presented assertion. "
                             "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation")
    if not any(c["subject"] == sub and set(c.get("audiences", [AUDIENCE])) & set(aud) for c in by_issuer):
        return _aadsts_error(400, "invalid_request", 70021, mismatch_text)
    if iss != state.issuer or state.take_fault("issuer"):
        return _aadsts_error(400, "invalid_request", 90061, "Request to External OIDC endpoint failed.")
    key = keys.get(header.get("kid"))
    if header.get("alg") != "RS256" or key is None or not key.verify(f"{header_b64}.{payload_b64}".encode(), signature):
        return _aadsts_error(401, "invalid_client", 50013,
                             "Assertion failed signature validation. [Reason - The key was not found., Thumbprint "
                             f"of key used by client: '{header.get('kid')}']")
    return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                 "access_token": b64url(secrets.token_bytes(48))}


class Handler(HandshakeOnRequestThread, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FakeEntraServer"

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write("fake_entra: " + fmt % args + "\n")

    # --- plumbing -------------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, content_type: str = "application/json; charset=utf-8") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _log(self, endpoint: str, status: int, form: Optional[dict] = None) -> None:
        entry: dict[str, Any] = {"t": time.time(), "method": self.command, "path": self.path,
                                 "endpoint": endpoint, "status": status}
        if form is not None:
            kept = {k: v for k, v in form.items() if k != "client_assertion"}
            if "client_assertion" in form:
                kept["client_assertion_sha256"] = hashlib.sha256(form["client_assertion"].encode()).hexdigest()
            entry["form"] = kept
        with self.server.state.lock:
            self.server.state.requests.append(entry)

    def _apply_fault(self, endpoint: str) -> bool:
        """True when a scripted fault answered (or dropped) the request."""
        fault = self.server.state.take_fault(endpoint)
        if not fault:
            return False
        if fault.get("delayMs"):
            if self.server.state.stopping.wait(fault["delayMs"] / 1000.0):
                return True
        if fault.get("hang"):
            self.server.state.stopping.wait()
            self.close_connection = True
            return True
        if fault.get("close"):
            self._log(endpoint, 0)
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if "status" not in fault:
            return False  # a pure delay
        body = fault.get("body", "")
        self._log(endpoint, fault["status"])
        self._send(fault["status"], body.encode() if isinstance(body, str) else body)
        return True

    # --- routes -----------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        if path == "/issuer/.well-known/openid-configuration":
            if self._apply_fault("discovery"):
                return
            doc = {"issuer": state.issuer, "jwks_uri": state.issuer + "openid/v1/jwks",
                   "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                   "id_token_signing_alg_values_supported": ["RS256"]}
            self._log("discovery", 200)
            self._send(200, doc)
        elif path == "/issuer/openid/v1/jwks":
            if self._apply_fault("jwks"):
                return
            with state.lock:
                keys = [k.jwk() for k in state.keys]
            self._log("jwks", 200)
            self._send(200, {"keys": keys}, "application/jwk-set+json")
        elif path == "/fake/health":
            self._send(200, {"ok": True, "issuer": state.issuer, "tenant": state.tenant})
        elif path == "/fake/credentials":
            with state.lock:
                self._send(200, state.credentials)
        elif path == "/fake/requests":
            with state.lock:
                self._send(200, list(state.requests))
        elif path == "/fake/faults":
            with state.lock:
                self._send(200, {k: list(v) for k, v in state.faults.items()})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self._body()
        except ValueError:
            self._send(413, {"error": "body too large"})
            return
        token_path = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if token_path:
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            if self._apply_fault("token"):
                return
            status, answer = exchange(state, urllib.parse.unquote(token_path.group(1)), form)
            self._log("token", status, form)
            self._send(status, answer)
            return
        try:
            spec = json.loads(body or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("not an object")
        except ValueError as error:
            self._send(400, {"error": f"invalid JSON: {error}"})
            return
        if path == "/fake/mint":
            self._send(200, {"token": state.mint(spec)})
        elif path == "/fake/keys/rotate":
            key = SigningKey(state.workdir)
            with state.lock:
                state.keys = (state.keys if spec.get("keepOld", True) else []) + [key]
            self._send(200, {"kid": key.kid, "published": [k.kid for k in state.keys]})
        elif path == "/fake/faults":
            endpoint = spec.get("endpoint")
            if endpoint not in ("token", "discovery", "jwks", "issuer"):
                self._send(400, {"error": "endpoint must be token, discovery, jwks or issuer"})
                return
            with state.lock:
                state.faults.setdefault(endpoint, deque()).append(spec)
            self._send(200, spec)
        else:
            self._send(404, {"error": "not found"})

    def do_PUT(self) -> None:  # noqa: N802
        state = self.server.state
        if urllib.parse.urlsplit(self.path).path != "/fake/credentials":
            self._send(404, {"error": "not found"})
            return
        try:
            creds = json.loads(self._body())
            if not isinstance(creds, dict) or not all(isinstance(v, list) for v in creds.values()):
                raise ValueError("expected {clientId: [credential, ...]}")
        except ValueError as error:
            self._send(400, {"error": str(error)})
            return
        with state.lock:
            state.credentials = {k.lower(): v for k, v in creds.items()}
        self._send(200, creds)

    def do_DELETE(self) -> None:  # noqa: N802
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        with state.lock:
            if path == "/fake/faults":
                state.faults.clear()
            elif path == "/fake/requests":
                state.requests.clear()
            else:
                path = ""
        self._send(200 if path else 404, {"ok": bool(path)})


class FakeEntraServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: FakeEntraState, tls: Optional[ssl.SSLContext],
                 verbose: bool) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def stop(self) -> None:
        self.state.stopping.set()
        self.shutdown()


def make_certificate(directory: str, name: Optional[str] = None) -> tuple[str, str]:
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    san = "IP:127.0.0.1,DNS:localhost" + (f",DNS:{name}" if name else "")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
             "-subj", "/CN=fake-entra", "-addext", f"subjectAltName={san}",
             "-addext", "basicConstraints=critical,CA:TRUE")
    return cert, key


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)  # readers never see a half-written file


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Fake Microsoft Entra ID token endpoint and Kubernetes OIDC issuer.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = any free port (default)")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--ca-file", help="write the server's self-signed certificate (PEM) here")
    parser.add_argument("--plain-http", action="store_true", help="serve plain HTTP (for the agent's test-only switch)")
    parser.add_argument("--name", help="a host name for the certificate and the issuer URL (https://NAME:PORT/issuer/) "
                        "instead of 127.0.0.1: one only a test's forward proxy resolves (tests/fakes/fake_forward_proxy.py)")
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT)
    parser.add_argument("--subject", default=DEFAULT_SUBJECT, help="subject of the default federated credential")
    parser.add_argument("--legacy-70021", action="store_true", help="answer 70021 for every issuer/subject/audience mismatch")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process dies")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("::1", "localhost"):
        parser.error("the fake listens on loopback only")

    workdir = tempfile.mkdtemp(prefix="fake-entra-")
    try:
        tls = None
        if not args.plain_http:
            cert, key = make_certificate(workdir, args.name)
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(cert, key)
            if args.ca_file:
                shutil.copyfile(cert, args.ca_file + ".tmp")
                os.replace(args.ca_file + ".tmp", args.ca_file)
        state = FakeEntraState(workdir, args.tenant, args.client_id.lower(), args.subject, args.legacy_70021)
        server = FakeEntraServer((args.host, args.port), state, tls, args.verbose)
        port = server.server_address[1]
        state.set_issuer(f"{'http' if args.plain_http else 'https'}://{args.name or '127.0.0.1'}:{port}/issuer/")

        def request_stop(*_: Any) -> None:
            # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
            threading.Thread(target=server.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        if args.exit_with_parent:
            parent = os.getppid()

            def watch_parent() -> None:
                while not state.stopping.wait(0.5):
                    if os.getppid() != parent:
                        request_stop()
                        return
            threading.Thread(target=watch_parent, daemon=True).start()

        if args.port_file:
            _write_atomically(args.port_file, f"{port}\n")
        print(f"LISTENING {port}", flush=True)
        try:
            server.serve_forever(poll_interval=0.1)
        finally:
            state.stopping.set()
            server.server_close()
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
