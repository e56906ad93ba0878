#pragma once
// Where the API server is and how to authenticate to it: in-cluster service account or a
// kubeconfig file (docs/configuration.md `kubernetes.kubeconfig`). Neither available is not a
// crash: the result says NotConfigured and why, the agent keeps watching IMDS and /readyz
// reports the reason.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/http/tls_options.h"

namespace aksnode {

struct KubeConnection {
  std::string server;     // scheme://host[:port][/prefix], no trailing slash; IPv6 in brackets
  std::string token;      // fixed bearer token (kubeconfig `token`); "" = none
  std::string tokenFile;  // re-read periodically (service account, kubeconfig `tokenFile`)
  TlsOptions tls;         // CA and client certificate; verification is always on
  std::string ns;         // service account / context namespace ("" = unknown)
  std::string source;     // "in-cluster" or "kubeconfig PATH context NAME" (logs, /readyz)
};

enum class KubeConfigStatus {
  Ok,
  NotConfigured,  // no kubeconfig given and not running in a cluster
  Invalid,        // something is configured but unusable (the reason says what)
};
const char* toString(KubeConfigStatus status);

struct KubeConnectionResult {
  KubeConfigStatus status = KubeConfigStatus::NotConfigured;
  std::optional<KubeConnection> connection;  // set when status == Ok
  std::string reason;                        // set otherwise; never contains secrets
  bool ok() const { return status == KubeConfigStatus::Ok; }
};

// What in-cluster discovery looks at; injectable for tests.
struct InClusterEnvironment {
  static constexpr const char* kDefaultServiceAccountDir =
      "/var/run/secrets/kubernetes.io/serviceaccount";
  std::function<std::optional<std::string>(const std::string&)> getenv;  // null = the process env
  std::string serviceAccountDir = kDefaultServiceAccountDir;
};

// KUBERNETES_SERVICE_HOST/PORT + {dir}/token, ca.crt, namespace.
KubeConnectionResult loadInClusterConnection(const InClusterEnvironment& env = {});
// A kubeconfig file: current-context -> cluster (server, certificate-authority[-data]) and
// user (token, tokenFile, client-certificate[-data], client-key[-data]). Relative paths are
// relative to the file's directory. Refused: insecure-skip-tls-verify, exec and auth-provider
// plugins, basic auth, impersonation, proxy-url, tls-server-name.
KubeConnectionResult loadKubeconfigConnection(const std::string& path);
// The same from text; `baseDir` resolves relative paths.
KubeConnectionResult parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                     const std::string& sourceName = "kubeconfig");
// kubeconfigPath "" (config `kubernetes.kubeconfig`) = in-cluster.
KubeConnectionResult loadKubeConnection(const std::string& kubeconfigPath,
                                        const InClusterEnvironment& env = {});

// Strict RFC 4648 base64 (whitespace ignored); nullopt on malformed input.
std::optional<std::string> decodeBase64(std::string_view text);

}  // namespace aksnode
