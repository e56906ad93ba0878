#pragma once
// Loads and validates the YAML configuration (docs/configuration.md) into Config.
//
// Strict: an unknown key (with the closest valid key suggested), a wrong type or an out-of-range
// value is an error naming its key path ("drain.timeout: expected a duration like 30s",
// "disks[1].minFreeRatio: expected a number between 0 and 1"). Every error is collected, not
// just the first. Every scalar value (never a key) goes through ${VAR} / ${VAR:-default}
// expansion first (env_expand.h), so "${NODE_NAME}" with NODE_NAME unset is "" as in bash.
//
// Shapes: an empty document, or one with only comments, gives the defaults (Config{}). A null
// value (`key:` with nothing after it) is "" for a scalar, an empty list for a list, and the
// defaults for a section. `disks: []` means no disks. `imds.actions` overrides per event type:
// types it does not name keep their defaults. A list entry of disks/caches needs its `path`.
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/config_error.h"
#include "agent/config/env_expand.h"

namespace aksnode {

// Config files, and config text, larger than this are refused.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
// YAML nodes (scalars, lists, maps, aliases) in one configuration. The full schema with a few
// dozen disks and namespaces is a few hundred; yaml-cpp spends ~450 bytes per node, so a 1 MiB
// `l: [a,a,...]` (524k nodes) peaked at 246 MiB before it was refused. Counted by a streaming
// pass that stops at the limit, before any node is built.
inline constexpr std::size_t kMaxConfigYamlNodes = 10'000;
// kubernetes.qps and burst.
inline constexpr double kMinQps = 1;
inline constexpr double kMaxQps = 10'000;
inline constexpr int kMaxBurst = 100'000;

struct ConfigLoadResult {
  // The effective configuration. When errors is non-empty it holds the defaults in place of
  // every invalid value and must not be used to run the agent.
  Config config;
  std::vector<ConfigError> errors;

  bool ok() const { return errors.empty(); }
  // Every error's toString(), one per line (no trailing newline).
  std::string errorText() const;
};

// Reads at most kMaxConfigBytes from path (a larger or unreadable file is an error) and loads it.
ConfigLoadResult loadConfigFile(const std::string& path, const EnvLookup& env);
// Loads configuration text (the file's contents).
ConfigLoadResult loadConfigString(std::string_view text, const EnvLookup& env);

// Whether printEffectiveConfig shows credentials (webhook URLs). --check-config never does: its
// output ends up in terminals, CI logs and tickets (docs/notifications.md).
enum class ConfigSecrets { Redacted, Shown };

// The full effective configuration as YAML: every key, in the contract's order, durations and
// byte sizes written back in their text form, strings quoted with "$" escaped as "$$", so that
// loadConfigString(printEffectiveConfig(c, ConfigSecrets::Shown), any env) gives back c. Redacted,
// a webhook url keeps only its scheme and host ("https://hooks.slack.com/[redacted]"), which
// does not load. Ends with a newline.
std::string printEffectiveConfig(const Config& config, ConfigSecrets secrets = ConfigSecrets::Redacted);

}  // namespace aksnode
