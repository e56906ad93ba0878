// libFuzzer target: documents fetched from the network for the identity probe (the OIDC
// discovery document, the JWKS, Entra ID's token endpoint answer). None of them may crash,
// hang or throw, and an access token in an answer must never survive interpretation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/http/http_client.h"
#include "probes/identity/jwks.h"
#include "probes/identity/token_exchange.h"

using namespace aksnode;
using namespace aksnode::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // A document is either usable (maybe with no keys) or rejected with a reason.
  const Result<KeySet> jwks = parseJwks(input);
  if (!jwks.ok() && jwks.error().empty()) __builtin_trap();
  if (jwks.ok()) {
    for (const auto& [kid, key] : jwks->keys) {
      if (kid.empty() || !key) __builtin_trap();
      // Verification against garbage must simply say no.
      if (verifyRs256(key.get(), input, input)) __builtin_trap();
    }
  }

  const auto discovery = parseDiscovery(input);
  if (!discovery && discovery.error().empty()) __builtin_trap();

  for (int status : {200, 400, 401}) {
    HttpResult result;
    result.response.status = status;
    result.response.body = std::string(input);
    const ExchangeOutcome outcome = interpretExchangeResponse(result, "h.p.s");
    if (!result.response.body.empty()) __builtin_trap();  // the body (maybe a token) is wiped
    if (outcome.ok != (outcome.metricResult == "ok")) __builtin_trap();
    if (!outcome.ok && outcome.reason.empty()) __builtin_trap();
    if (outcome.message.size() > 1024) __builtin_trap();
  }
  return 0;
}
