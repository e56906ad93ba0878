// libFuzzer target: the kubeconfig file (kubernetes.kubeconfig; arch/FAULTS.md counts
// configuration files as outside input). Beyond "no crash, no hang, no sanitizer report":
//  * a kubeconfig that loads names an http(s) server without a trailing slash and a token that
//    can go into an HTTP header;
//  * a refusal always says why, and its reason (logged, shown by /readyz) never quotes a
//    credential: a user's token, password or client key, or the user info of a server URL
//    (found: https://user:password@host was quoted whole; tests/unit/kube/kube_config_redaction_test.cpp).
// Seeds: tests/fuzz/corpus/kubeconfig/.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/kube/kube_config.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

// The password of scheme://user:password@host/..., or the user name when there is no password
// (a token used as the user name), if any.
std::string urlPassword(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const std::size_t start = scheme + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const auto at = url.find('@', start);
  if (at == std::string::npos || at >= end) return "";
  const auto colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url.substr(start, at - start);
  return url.substr(colon + 1, at - colon - 1);
}

void scalarAt(const YAML::Node& map, const char* key, std::vector<std::string>& out) {
  const YAML::Node n = map[key];
  if (n && n.IsScalar()) out.push_back(n.Scalar());
}

// Every credential the text holds, as the kubeconfig parser would read it.
std::vector<std::string> credentials(std::string_view text) {
  std::vector<std::string> out;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return out;
    const YAML::Node users = root["users"];
    if (users && users.IsSequence()) {
      for (const auto& entry : users) {
        if (!entry.IsMap() || !entry["user"] || !entry["user"].IsMap()) continue;
        const YAML::Node user = entry["user"];
        for (const char* key : {"token", "password", "client-key-data"}) scalarAt(user, key, out);
      }
    }
    const YAML::Node clusters = root["clusters"];
    if (clusters && clusters.IsSequence()) {
      for (const auto& entry : clusters) {
        if (!entry.IsMap() || !entry["cluster"] || !entry["cluster"].IsMap()) continue;
        const YAML::Node server = entry["cluster"]["server"];
        if (server && server.IsScalar()) out.push_back(urlPassword(server.Scalar()));
      }
    }
  } catch (...) {
    // Not YAML the fuzzer can read either: the parser must then have refused it.
  }
  return out;
}

std::size_t occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string_view::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A base directory that does not exist: relative certificate paths resolve but are missing.
  const aksnode::KubeConnectionResult result = aksnode::parseKubeconfig(text, "/nonexistent-kubeconfig-dir");
  if (result.ok()) {
    check(result.connection.has_value());
    const aksnode::KubeConnection& c = *result.connection;
    check(c.server.rfind("https://", 0) == 0 || c.server.rfind("http://", 0) == 0);
    check(c.server.back() != '/');
    check(c.token.find_first_of("\r\n") == std::string::npos);
    return 0;
  }
  check(!result.reason.empty());
  check(!result.connection.has_value());
  // Differential check: put a marker in place of each credential and parse again. The marker
  // cannot occur in the parser's own wording, so finding it in the reason is a leak (comparing
  // the credential itself with the reason would flag a fuzzer-made password that happens to
  // read like the message).
  const std::vector<std::string> secrets = credentials(text);
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const std::string& secret = secrets[i];
    // Only a credential written once, plainly, can be swapped without changing the structure.
    if (secret.empty() || occurrences(text, secret) != 1) continue;
    const std::string marker = "ZqxSecretMarker" + std::to_string(i);
    std::string swapped(text);
    swapped.replace(swapped.find(secret), secret.size(), marker);
    // The one occurrence may be elsewhere (the value was written with escapes): then skip.
    const std::vector<std::string> after = credentials(swapped);
    if (std::find(after.begin(), after.end(), marker) == after.end()) continue;
    const aksnode::KubeConnectionResult again = aksnode::parseKubeconfig(swapped, "/nonexistent-kubeconfig-dir");
    check(again.ok() || again.reason.find(marker) == std::string::npos);
  }
  return 0;
}
