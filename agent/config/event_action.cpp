#include <array>
#include <string_view>
#include <utility>

#include "agent/config/config.h"

namespace aksnode {

namespace {

// Each enum's configuration spelling, in one table per enum; the first entry is the fallback
// for a value outside the enum (a cast from an unchecked integer).
template <typename E, std::size_t N>
using Names = std::array<std::pair<E, const char*>, N>;

template <typename E, std::size_t N>
const char* nameOf(const Names<E, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names.front().second;
}

template <typename E, std::size_t N>
std::optional<E> valueOf(const Names<E, N>& names, std::string_view text) {
  for (const auto& [v, name] : names) {
    if (text == name) return v;
  }
  return std::nullopt;
}

constexpr Names<EventAction, 4> kEventActions{{{EventAction::None, "none"},
                                               {EventAction::Notify, "notify"},
                                               {EventAction::Cordon, "cordon"},
                                               {EventAction::Drain, "drain"}}};
constexpr Names<VmEventConditionMode, 3> kVmEventModes{{{VmEventConditionMode::Auto, "auto"},
                                                        {VmEventConditionMode::Always, "always"},
                                                        {VmEventConditionMode::Never, "never"}}};
constexpr Names<PreemptionConditionMode, 3> kPreemptionModes{{{PreemptionConditionMode::AfterDrain, "afterDrain"},
                                                              {PreemptionConditionMode::OnDetect, "onDetect"},
                                                              {PreemptionConditionMode::Never, "never"}}};
constexpr Names<WebhookFormat, 3> kWebhookFormats{{{WebhookFormat::Json, "json"},
                                                   {WebhookFormat::Slack, "slack"},
                                                   {WebhookFormat::Teams, "teams"}}};

}  // namespace

const char* toString(EventAction action) { return nameOf(kEventActions, action); }
std::optional<EventAction> eventActionFromString(const std::string& text) { return valueOf(kEventActions, text); }

const char* toString(VmEventConditionMode mode) { return nameOf(kVmEventModes, mode); }
std::optional<VmEventConditionMode> vmEventConditionModeFromString(const std::string& text) {
  return valueOf(kVmEventModes, text);
}

const char* toString(PreemptionConditionMode mode) { return nameOf(kPreemptionModes, mode); }
std::optional<PreemptionConditionMode> preemptionConditionModeFromString(const std::string& text) {
  return valueOf(kPreemptionModes, text);
}

const char* toString(WebhookFormat format) { return nameOf(kWebhookFormats, format); }
std::optional<WebhookFormat> webhookFormatFromString(const std::string& text) {
  return valueOf(kWebhookFormats, text);
}

}  // namespace aksnode
