#include "agent/kube/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "agent/core/host_port.h"
#include "agent/core/input_file.h"
#include "agent/kube/bearer_token.h"

namespace aksnode {

const char* toString(KubeConfigStatus status) {
  switch (status) {
    case KubeConfigStatus::Ok: return "Ok";
    case KubeConfigStatus::NotConfigured: return "NotConfigured";
    case KubeConfigStatus::Invalid: return "Invalid";
  }
  return "Invalid";
}

namespace {

constexpr std::size_t kMaxKubeconfigSize = 1 << 20;
constexpr std::size_t kMaxPemSize = 1 << 20;

KubeConnectionResult invalid(std::string reason) {
  return KubeConnectionResult{KubeConfigStatus::Invalid, std::nullopt, std::move(reason)};
}

KubeConnectionResult success(KubeConnection connection) {
  return KubeConnectionResult{KubeConfigStatus::Ok, std::move(connection), ""};
}

// Reads a small file; on failure returns nullopt and sets `error`. A FIFO, device or socket is
// refused without blocking (`kubernetes.kubeconfig: FIFO` used to stop the event loop).
std::optional<std::string> readSmallFile(const std::string& path, std::size_t limit,
                                         std::string& error) {
  InputFile file = readInputFile(path, limit);
  if (!file.ok()) {
    error = path + ": " + file.error;
    return std::nullopt;
  }
  return std::move(file.text);
}

std::string trimmed(std::string s) {
  const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

// The server URL as it may appear in a message: user info (user:password@, or a token as the
// user name) is replaced, because the reason is logged and shown by /readyz and must never
// carry a credential. Works on text that is not a valid URL too.
std::string serverForMessage(const std::string& server) {
  const auto scheme = server.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t end = std::min(server.find_first_of("/?#", start), server.size());
  if (end == start) return server;
  const auto at = server.rfind('@', end - 1);  // the authority's last '@' ends the user info
  if (at == std::string::npos || at < start) return server;
  return server.substr(0, start) + "[redacted]@" + server.substr(at + 1);
}

// Checks an API server URL and returns it without a trailing slash; "" + error when unusable.
std::string normalizeServer(const std::string& server, std::string& error) {
  const std::string quoted = "server \"" + serverForMessage(server) + "\"";
  auto parsed = boost::urls::parse_uri(server);
  if (!parsed) {
    error = quoted + " is not a valid URL";
    return "";
  }
  const auto& u = *parsed;
  if (u.scheme() != "https" && u.scheme() != "http") {
    error = quoted + ": scheme must be https (or http for tests)";
    return "";
  }
  if (u.encoded_host().empty()) {
    error = quoted + " has no host";
    return "";
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) {
    error = quoted + " must not carry user info, a query or a fragment";
    return "";
  }
  std::string out(u.buffer());
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::optional<std::string> envValue(const InClusterEnvironment& env, const std::string& name) {
  if (env.getenv) return env.getenv(name);
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string resolvePath(const std::string& path, const std::string& baseDir) {
  if (path.empty() || baseDir.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(baseDir) / p).lexically_normal().string();
}

// Named entry `name` in a kubeconfig list (clusters, users, contexts) -> its inner map.
YAML::Node findNamed(const YAML::Node& root, const char* list, const char* inner,
                     const std::string& name, std::string& error) {
  const YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) {
    error = std::string("no \"") + list + "\" list";
    return YAML::Node(YAML::NodeType::Undefined);
  }
  for (const auto& entry : entries) {
    if (!entry.IsMap()) continue;
    const YAML::Node n = entry["name"];
    if (n && n.IsScalar() && n.Scalar() == name) {
      const YAML::Node value = entry[inner];
      if (!value || value.IsNull()) return YAML::Node(YAML::NodeType::Map);
      if (!value.IsMap()) {
        error = std::string(list) + " entry \"" + name + "\": \"" + inner + "\" must be a map";
        return YAML::Node(YAML::NodeType::Undefined);
      }
      return value;
    }
  }
  error = std::string(list) + " has no entry named \"" + name + "\"";
  return YAML::Node(YAML::NodeType::Undefined);
}

// A scalar string field; "" when absent; error when present with a non-scalar type.
std::string scalar(const YAML::Node& map, const char* key, const std::string& where,
                   std::string& error) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) {
    if (error.empty()) error = where + "." + key + " must be a string";
    return "";
  }
  return n.Scalar();
}

bool truthy(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  if (!n || !n.IsScalar()) return false;
  const std::string& v = n.Scalar();
  return v == "true" || v == "True" || v == "TRUE" || v == "yes" || v == "on";
}

// `file` (resolved) and `data` (base64): exactly one source of PEM text.
bool pemFrom(const std::string& file, const std::string& data, const std::string& what,
             std::string& outFile, std::string& outPem, std::string& error) {
  if (!data.empty()) {
    auto decoded = decodeBase64(data);
    if (!decoded || decoded->empty() || decoded->size() > kMaxPemSize) {
      error = what + "-data is not valid base64";
      return false;
    }
    outPem = std::move(*decoded);
    return true;
  }
  if (!file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      error = what + " file " + file + " does not exist or is not a regular file";
      return false;
    }
    outFile = file;
  }
  return true;
}

}  // namespace

std::optional<std::string> decodeBase64(std::string_view text) {
  static constexpr auto kTable = [] {
    std::array<signed char, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  int padding = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    const int v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    ++symbols;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2 || symbols % 4 != 0) return std::nullopt;
  return out;
}

KubeConnectionResult loadInClusterConnection(const InClusterEnvironment& env) {
  const auto host = envValue(env, "KUBERNETES_SERVICE_HOST");
  const auto port = envValue(env, "KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return KubeConnectionResult{KubeConfigStatus::NotConfigured, std::nullopt,
                                "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) "
                                "and no kubernetes.kubeconfig configured"};
  }
  char* end = nullptr;
  errno = 0;
  const long portNumber = std::strtol(port->c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0' || portNumber < 1 || portNumber > 65535) {
    return invalid("KUBERNETES_SERVICE_PORT \"" + *port + "\" is not a port number");
  }
  // An IPv6 literal needs brackets in a URL ("[fd00::1]:443").
  std::string error;
  KubeConnection c;
  c.server = normalizeServer("https://" + joinHostPort(*host, std::to_string(portNumber)), error);
  if (c.server.empty()) return invalid("KUBERNETES_SERVICE_HOST: " + error);

  const std::filesystem::path dir(env.serviceAccountDir);
  const std::string tokenFile = (dir / "token").string();
  const std::string caFile = (dir / "ca.crt").string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tokenFile, ec)) {
    return invalid("in-cluster: service account token " + tokenFile +
                   " is missing (automountServiceAccountToken: false?)");
  }
  std::string readError;
  const auto token = readSmallFile(tokenFile, 64 * 1024, readError);
  if (!token) return invalid("in-cluster: cannot read the service account token: " + readError);
  if (!std::filesystem::is_regular_file(caFile, ec)) {
    return invalid("in-cluster: service account CA " + caFile + " is missing");
  }
  c.tokenFile = tokenFile;
  c.tls.caFile = caFile;
  if (auto ns = readSmallFile((dir / "namespace").string(), 1024, readError)) c.ns = trimmed(*ns);
  c.source = "in-cluster";
  return success(std::move(c));
}

KubeConnectionResult parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                     const std::string& sourceName) {
  if (yaml.size() > kMaxKubeconfigSize) return invalid(sourceName + ": larger than 1 MiB");
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) return invalid(sourceName + ": not a kubeconfig (expected a YAML map)");
    std::string error;
    const std::string contextName = scalar(root, "current-context", "kubeconfig", error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    if (contextName.empty()) return invalid(sourceName + ": current-context is not set");

    const YAML::Node context = findNamed(root, "contexts", "context", contextName, error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    const std::string where = "context \"" + contextName + "\"";
    const std::string clusterName = scalar(context, "cluster", where, error);
    const std::string userName = scalar(context, "user", where, error);
    const std::string ns = scalar(context, "namespace", where, error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    if (clusterName.empty()) return invalid(sourceName + ": " + where + " names no cluster");

    const YAML::Node cluster = findNamed(root, "clusters", "cluster", clusterName, error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    const std::string clusterWhere = "cluster \"" + clusterName + "\"";
    if (truthy(cluster, "insecure-skip-tls-verify")) {
      return invalid(sourceName + ": " + clusterWhere +
                     " sets insecure-skip-tls-verify; the agent always verifies the API server "
                     "certificate: set certificate-authority or certificate-authority-data instead");
    }
    for (const char* refused : {"proxy-url", "tls-server-name"}) {
      if (cluster[refused]) {
        return invalid(sourceName + ": " + clusterWhere + " sets " + refused + ", which is not supported");
      }
    }
    KubeConnection c;
    const std::string server = scalar(cluster, "server", clusterWhere, error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    if (server.empty()) return invalid(sourceName + ": " + clusterWhere + " has no server");
    c.server = normalizeServer(server, error);
    if (!error.empty()) return invalid(sourceName + ": " + clusterWhere + ": " + error);
    const std::string caFile = resolvePath(scalar(cluster, "certificate-authority", clusterWhere, error), baseDir);
    const std::string caData = scalar(cluster, "certificate-authority-data", clusterWhere, error);
    if (!error.empty()) return invalid(sourceName + ": " + error);
    if (!pemFrom(caFile, caData, "certificate-authority", c.tls.caFile, c.tls.caPem, error)) {
      return invalid(sourceName + ": " + clusterWhere + ": " + error);
    }

    if (!userName.empty()) {
      const YAML::Node user = findNamed(root, "users", "user", userName, error);
      if (!error.empty()) return invalid(sourceName + ": " + error);
      const std::string userWhere = "user \"" + userName + "\"";
      if (user["exec"] || user["auth-provider"]) {
        return invalid(sourceName + ": " + userWhere +
                       " uses a credential plugin (exec/auth-provider), which the agent does not run; "
                       "use a token, tokenFile or client certificate");
      }
      if (user["username"] || user["password"]) {
        return invalid(sourceName + ": " + userWhere + " uses basic authentication, which is not supported");
      }
      if (user["as"] || user["as-groups"] || user["as-uid"] || user["as-user-extra"]) {
        return invalid(sourceName + ": " + userWhere + " uses impersonation, which is not supported");
      }
      c.token = scalar(user, "token", userWhere, error);
      c.tokenFile = resolvePath(scalar(user, "tokenFile", userWhere, error), baseDir);
      const std::string certFile = resolvePath(scalar(user, "client-certificate", userWhere, error), baseDir);
      const std::string certData = scalar(user, "client-certificate-data", userWhere, error);
      const std::string keyFile = resolvePath(scalar(user, "client-key", userWhere, error), baseDir);
      const std::string keyData = scalar(user, "client-key-data", userWhere, error);
      if (!error.empty()) return invalid(sourceName + ": " + error);
      if (!c.token.empty() && !isValidBearerToken(c.token)) {
        return invalid(sourceName + ": " + userWhere + ": token contains characters not allowed in an HTTP header");
      }
      if (!c.tokenFile.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(c.tokenFile, ec)) {
          return invalid(sourceName + ": " + userWhere + ": tokenFile " + c.tokenFile + " does not exist");
        }
      }
      if (!pemFrom(certFile, certData, "client-certificate", c.tls.clientCertFile, c.tls.clientCertPem, error) ||
          !pemFrom(keyFile, keyData, "client-key", c.tls.clientKeyFile, c.tls.clientKeyPem, error)) {
        return invalid(sourceName + ": " + userWhere + ": " + error);
      }
      const bool haveCert = !c.tls.clientCertFile.empty() || !c.tls.clientCertPem.empty();
      const bool haveKey = !c.tls.clientKeyFile.empty() || !c.tls.clientKeyPem.empty();
      if (haveCert != haveKey) {
        return invalid(sourceName + ": " + userWhere + ": client-certificate and client-key go together");
      }
    }
    c.ns = ns;
    c.source = sourceName + " context " + contextName;
    return success(std::move(c));
  } catch (const YAML::Exception& e) {
    return invalid(sourceName + ": " + e.what());
  } catch (const std::exception& e) {
    return invalid(sourceName + ": " + e.what());
  }
}

KubeConnectionResult loadKubeconfigConnection(const std::string& path) {
  std::string error;
  const auto text = readSmallFile(path, kMaxKubeconfigSize, error);
  if (!text) return invalid("kubeconfig " + error);
  const std::string baseDir = std::filesystem::path(path).parent_path().string();
  return parseKubeconfig(*text, baseDir, "kubeconfig " + path);
}

KubeConnectionResult loadKubeConnection(const std::string& kubeconfigPath, const InClusterEnvironment& env) {
  if (!kubeconfigPath.empty()) return loadKubeconfigConnection(kubeconfigPath);
  return loadInClusterConnection(env);
}

}  // namespace aksnode
