#include "agent/engine/agent_annotation.h"

#include <boost/json.hpp>

#include "agent/http/http_date.h"

namespace aksnode {

const char* toString(ActionPhase phase) {
  switch (phase) {
    case ActionPhase::Cordoned: return "cordoned";
    case ActionPhase::Draining: return "draining";
    case ActionPhase::Drained: return "drained";
    case ActionPhase::Acknowledged: return "acknowledged";
    case ActionPhase::Failed: return "failed";
  }
  return "failed";
}

std::optional<ActionPhase> actionPhaseFromString(const std::string& s) {
  for (auto p : {ActionPhase::Cordoned, ActionPhase::Draining, ActionPhase::Drained, ActionPhase::Acknowledged,
                 ActionPhase::Failed}) {
    if (s == toString(p)) return p;
  }
  return std::nullopt;
}

std::string serializeAnnotation(const AgentAnnotation& a) {
  boost::json::object o;
  o["eventId"] = a.eventId;
  o["eventType"] = a.eventType;
  o["phase"] = toString(a.phase);
  o["since"] = formatRfc3339(a.since);
  o["cordonedByAgent"] = a.cordonedByAgent;
  return boost::json::serialize(o);
}

std::optional<AgentAnnotation> parseAnnotation(const std::string& text) {
  if (text.size() > 4096) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto str = [&](const char* k) -> const boost::json::string* {
    auto it = o.find(k);
    return (it != o.end() && it->value().is_string()) ? &it->value().get_string() : nullptr;
  };
  const auto* id = str("eventId");
  const auto* type = str("eventType");
  const auto* phase = str("phase");
  const auto* since = str("since");
  auto cordoned = o.find("cordonedByAgent");
  if (!id || !type || !phase || cordoned == o.end() || !cordoned->value().is_bool()) return std::nullopt;
  AgentAnnotation a;
  a.eventId = std::string(*id);
  a.eventType = std::string(*type);
  auto p = actionPhaseFromString(std::string(*phase));
  if (!p) return std::nullopt;
  a.phase = *p;
  if (since) {
    if (auto t = parseHttpDate(std::string_view(*since))) a.since = *t;
  }
  a.cordonedByAgent = cordoned->value().get_bool();
  return a;
}

}  // namespace aksnode
