// libFuzzer target: untrusted bytes into the YAML configuration loader (arch/FAULTS.md:
// the config file is an outside input). Beyond "no crash, no hang, no sanitizer report" it checks
// one property: whatever loads cleanly prints (--check-config) to YAML that loads back equal.
// Seeds: tests/fuzz/corpus/config/.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "agent/config/config_loader.h"
#include "agent/config/duration.h"
#include "agent/config/env_expand.h"
#include "agent/config/validators.h"

namespace {

const aksnode::EnvLookup& fuzzEnvironment() {
  static const aksnode::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    static const std::map<std::string, std::string> vars = {
        {"NODE_NAME", "aks-spot-12345678-vmss000003"},
        {"AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"},
        {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"},
        {"EMPTY", ""},
        {"DOLLARS", "$${A}$"},
        {"DURATION", "1m30s"},
    };
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const aksnode::EnvLookup& env = fuzzEnvironment();

  const aksnode::ConfigLoadResult loaded = aksnode::loadConfigString(text, env);
  if (loaded.ok()) {
    const std::string printed = aksnode::printEffectiveConfig(loaded.config, aksnode::ConfigSecrets::Shown);
    if (printed.size() <= aksnode::kMaxConfigBytes) {
      const aksnode::ConfigLoadResult again = aksnode::loadConfigString(printed, env);
      if (!again.ok() || !(again.config == loaded.config)) __builtin_trap();
    }
  } else if (loaded.errorText().empty()) {
    __builtin_trap();  // every error carries a message
  }

  // The scalar parsers see the same bytes directly.
  (void)aksnode::parseDuration(text);
  (void)aksnode::parseBytes(text);
  (void)aksnode::expandEnvironment(text, env);
  (void)aksnode::parseHostPort(text);
  (void)aksnode::checkHttpUrl(text).ok();
  return 0;
}
