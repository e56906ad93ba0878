#include "probes/identity/identity_environment.h"

#include <string_view>

#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string withTrailingSlash(std::string url) {
  if (!url.empty() && url.back() != '/') url.push_back('/');
  return url;
}

enum class Compare { Exact, IgnoreCase, Url };

struct Variable {
  const char* name;
  const char* configKey;
  const std::string& configured;
  std::string& effective;
  Compare compare;
};

}  // namespace

IdentityEnvironment inspectEnvironment(const IdentityConfig& config, const EnvLookup& env) {
  IdentityEnvironment out;
  // GUIDs compare case-insensitively; the authority host with or without its trailing
  // slash (the SDKs normalise it); the token path exactly.
  Variable variables[] = {
      {"AZURE_CLIENT_ID", "identity.clientId", config.clientId, out.clientId, Compare::IgnoreCase},
      {"AZURE_TENANT_ID", "identity.tenantId", config.tenantId, out.tenantId, Compare::IgnoreCase},
      {"AZURE_FEDERATED_TOKEN_FILE", "identity.tokenFile", config.tokenFile, out.tokenFile, Compare::Exact},
      {"AZURE_AUTHORITY_HOST", "identity.authorityHost", config.authorityHost, out.authorityHost, Compare::Url},
  };
  std::string missing;
  for (auto& v : variables) {
    const std::optional<std::string> value = env ? env(v.name) : std::nullopt;
    v.effective = v.configured.empty() ? value.value_or("") : v.configured;
    if (!value || value->empty()) {
      missing += missing.empty() ? "" : ", ";
      missing += v.name;
      continue;
    }
    if (v.configured.empty() || !out.problem.empty()) continue;
    bool same = false;
    switch (v.compare) {
      case Compare::Exact: same = *value == v.configured; break;
      case Compare::IgnoreCase: same = equalsIgnoreCase(*value, v.configured); break;
      case Compare::Url:
        same = equalsIgnoreCase(withTrailingSlash(*value), withTrailingSlash(v.configured));
        break;
    }
    if (!same) {
      out.problem = std::string(v.name) + " is \"" + printable(*value) + "\" but " + v.configKey +
                    " is \"" + printable(v.configured) +
                    "\": the agent would check a different identity than the pod's SDKs use";
    }
  }
  out.authorityHost = withTrailingSlash(out.authorityHost);
  if (!missing.empty()) {
    // Missing variables are the more fundamental problem: report them first.
    out.problem = "not set: " + missing +
                  " (the workload identity webhook did not inject them: is the pod labelled "
                  "azure.workload.identity/use=true, its service account annotated with "
                  "azure.workload.identity/client-id, and the pod outside kube-system?)";
  }
  return out;
}

}  // namespace aksnode::identity
