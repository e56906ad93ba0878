#include "agent/config/config.h"

namespace aksnode {

const char* toString(EventAction action) {
  switch (action) {
    case EventAction::None: return "none";
    case EventAction::Notify: return "notify";
    case EventAction::Cordon: return "cordon";
    case EventAction::Drain: return "drain";
  }
  return "none";
}

std::optional<EventAction> eventActionFromString(const std::string& text) {
  if (text == "none") return EventAction::None;
  if (text == "notify") return EventAction::Notify;
  if (text == "cordon") return EventAction::Cordon;
  if (text == "drain") return EventAction::Drain;
  return std::nullopt;
}

const char* toString(VmEventConditionMode mode) {
  switch (mode) {
    case VmEventConditionMode::Auto: return "auto";
    case VmEventConditionMode::Always: return "always";
    case VmEventConditionMode::Never: return "never";
  }
  return "auto";
}

std::optional<VmEventConditionMode> vmEventConditionModeFromString(const std::string& text) {
  if (text == "auto") return VmEventConditionMode::Auto;
  if (text == "always") return VmEventConditionMode::Always;
  if (text == "never") return VmEventConditionMode::Never;
  return std::nullopt;
}

const char* toString(PreemptionConditionMode mode) {
  switch (mode) {
    case PreemptionConditionMode::AfterDrain: return "afterDrain";
    case PreemptionConditionMode::OnDetect: return "onDetect";
    case PreemptionConditionMode::Never: return "never";
  }
  return "afterDrain";
}

std::optional<PreemptionConditionMode> preemptionConditionModeFromString(const std::string& text) {
  if (text == "afterDrain") return PreemptionConditionMode::AfterDrain;
  if (text == "onDetect") return PreemptionConditionMode::OnDetect;
  if (text == "never") return PreemptionConditionMode::Never;
  return std::nullopt;
}

const char* toString(WebhookFormat format) {
  switch (format) {
    case WebhookFormat::Json: return "json";
    case WebhookFormat::Slack: return "slack";
    case WebhookFormat::Teams: return "teams";
  }
  return "json";
}

std::optional<WebhookFormat> webhookFormatFromString(const std::string& text) {
  if (text == "json") return WebhookFormat::Json;
  if (text == "slack") return WebhookFormat::Slack;
  if (text == "teams") return WebhookFormat::Teams;
  return std::nullopt;
}

}  // namespace aksnode
