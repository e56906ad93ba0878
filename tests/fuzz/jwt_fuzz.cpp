// libFuzzer target: the projected token file is attacker-influenced input (anyone who can
// write into the pod's volume, or a broken kubelet). parseJwt and checkToken must never
// crash, hang or throw, whatever the bytes; base64url must stay canonical.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "probes/identity/base64url.h"
#include "probes/identity/jwt.h"
#include "probes/identity/token_check.h"

namespace {

using namespace aksnode;
using namespace aksnode::identity;

const IdentityConfig& fuzzConfig() {
  static const IdentityConfig config = [] {
    IdentityConfig c;
    c.tokenFile = "/var/run/secrets/azure/tokens/azure-identity-token";
    c.clientId = "0a1b2c3d-0000-4000-8000-00000000c1d0";
    c.tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    c.expectedIssuer = "https://oidc.example/issuer/";
    c.expectedSubject = "system:serviceaccount:ns:sa";
    return c;
  }();
  return config;
}

std::optional<std::string> fuzzEnv(const std::string& name) {
  const std::string_view n(name);
  if (n == "AZURE_CLIENT_ID") return fuzzConfig().clientId;
  if (n == "AZURE_TENANT_ID") return fuzzConfig().tenantId;
  if (n == "AZURE_FEDERATED_TOKEN_FILE") return fuzzConfig().tokenFile;
  if (n == "AZURE_AUTHORITY_HOST") return fuzzConfig().authorityHost;
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // base64url: whatever decodes must re-encode to the same text (no padding, no slack bits).
  if (const auto decoded = base64UrlDecode(input); decoded && input.find('=') == std::string_view::npos) {
    if (base64UrlEncode(*decoded) != input) __builtin_trap();
  }

  const JwtParseResult parsed = parseJwt(input);
  if (parsed.ok() != parsed.jwt.has_value()) __builtin_trap();
  if (parsed.ok() && parsed.jwt->signingInput.size() >= input.size()) __builtin_trap();

  // The whole policy, at a fixed time, with a rotation state that persists across inputs
  // (as it does across checks in the agent).
  static RotationState state;
  TokenFile file;
  file.status = TokenFile::Status::Read;
  file.path = fuzzConfig().tokenFile;
  file.text = std::string(input);
  const TokenCheckResult result =
      checkToken(file, fuzzConfig(), fuzzEnv, SystemTime{std::chrono::seconds{1'800'000'000}}, state);
  if (result.message.empty()) __builtin_trap();
  // The message never quotes a well-formed token (claims are quoted decoded, never the
  // base64 text, so a match would mean the token itself leaked into the message).
  if (parsed.ok() && result.message.find(input) != std::string::npos) __builtin_trap();
  return 0;
}
