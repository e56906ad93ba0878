"""A throw-away PKI for the loopback control plane, made with the openssl command line.

One CA signs the API server's serving certificate and a client certificate per component;
the Kubernetes authenticator maps a client certificate's CN to the user and each O to a group,
so the controller-manager and the scheduler get exactly the identities (and RBAC bindings) the
API server bootstraps for them, and the admin gets system:masters. sa.key signs service-account
tokens (the agent's token comes from `kubectl create token`).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

# The API server's names: loopback for the tests, the first service IP and the in-cluster
# names so that the certificate would also be valid from a pod.
APISERVER_SANS = (
    "IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,"
    "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
)

# name -> (CN, O or None): who each client certificate is.
CLIENTS = {
    "admin": ("e2e-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    # kwok plays every kubelet (node status, leases, pod status, deletions).
    "kwok": ("kwok-controller", "system:masters"),
}


@dataclass
class Pki:
    dir: str

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    @property
    def ca(self) -> str:
        return self.path("ca.crt")

    def cert(self, name: str) -> str:
        return self.path(f"{name}.crt")

    def key(self, name: str) -> str:
        return self.path(f"{name}.key")


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _signed(dir: str, name: str, subject: str, extensions: str) -> None:
    ext = os.path.join(dir, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(extensions)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", subject, cwd=dir)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", ext, cwd=dir)
    os.remove(os.path.join(dir, f"{name}.csr"))
    os.remove(ext)


def make_pki(dir: str) -> Pki:
    os.makedirs(dir, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=aks-node-agent-e2e-ca", cwd=dir)
    _signed(dir, "apiserver", "/CN=kube-apiserver",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            f"extendedKeyUsage=serverAuth\nsubjectAltName={APISERVER_SANS}\n")
    for name, (cn, org) in CLIENTS.items():
        subject = f"/CN={cn}" + (f"/O={org}" if org else "")
        _signed(dir, name, subject, "basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n")
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=dir)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=dir)
    return Pki(dir)


def kubeconfig(pki: Pki, server: str, user: str, out: str, token: str | None = None) -> str:
    """A kubeconfig for `user`: its client certificate, or a bearer token when given."""
    if token is not None:
        creds = f"    token: {token}\n"
    else:
        creds = (f"    client-certificate: {pki.cert(user)}\n"
                 f"    client-key: {pki.key(user)}\n")
    with open(out, "w") as f:
        f.write(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: e2e\n  cluster:\n    server: {server}\n"
            f"    certificate-authority: {pki.ca}\n"
            f"users:\n- name: {user}\n  user:\n{creds}"
            f"contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: {user}\n"
            "current-context: e2e\n")
    os.chmod(out, 0o600)
    return out
