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

}  // namespace aksnode
