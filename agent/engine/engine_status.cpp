// The engine's /status JSON from a plain snapshot (see engine_status.h).
#include "agent/engine/engine_status.h"

#include <boost/json.hpp>

#include "agent/http/http_date.h"
#include "probes/scheduled_events/event_json.h"

namespace aksnode {

namespace {
boost::json::value currentActionJson(const EngineStatusSnapshot& s) {
  if (!s.active) return nullptr;
  const auto& ev = s.active->pending.event;
  boost::json::object a{{"eventId", ev.eventId}, {"eventType", toString(ev.type)}, {"action", toString(s.active->action)}};
  if (s.node && s.node->agentState && s.node->agentState->eventId == ev.eventId) {
    a["phase"] = toString(s.node->agentState->phase);
  }
  if (s.localPhase) a["localPhase"] = toString(*s.localPhase);
  return a;
}

boost::json::value drainJson(const EngineStatusSnapshot& s) {
  if (s.drainEventId) {
    boost::json::array blocked;
    for (const auto& b : s.drainProgress.blocked) {
      blocked.push_back({{"namespace", b.ns}, {"name", b.name}, {"reason", b.reason}, {"message", b.message}});
    }
    return boost::json::object{{"eventId", *s.drainEventId},
                               {"running", true},
                               {"podsToEvict", s.drainProgress.podsToEvict},
                               {"podsRemaining", s.drainProgress.podsRemaining},
                               {"evictionsIssued", s.drainProgress.evictionsIssued},
                               {"blocked", std::move(blocked)}};
  }
  if (!s.lastDrain) return nullptr;
  const DrainSummary& d = *s.lastDrain;
  return boost::json::object{{"eventId", d.eventId},         {"result", toString(d.result)},
                             {"seconds", d.seconds},         {"message", d.message},
                             {"podsEvicted", d.podsEvicted}, {"podsRemaining", d.podsRemaining}};
}
}  // namespace

boost::json::object engineStatusJson(const EngineStatusSnapshot& s) {
  boost::json::object o;
  boost::json::array pending;
  for (const auto& p : s.pending) pending.push_back(toJson(p));
  o["pendingEvents"] = std::move(pending);
  o["currentAction"] = currentActionJson(s);
  o["drain"] = drainJson(s);
  if (s.node) {
    boost::json::object n{{"name", s.node->name},
                          {"unschedulable", s.node->unschedulable},
                          {"resourceVersion", s.node->resourceVersion}};
    if (s.node->agentState) n["agentState"] = boost::json::parse(serializeAnnotation(*s.node->agentState));
    o["node"] = std::move(n);
  }
  boost::json::array yielded;
  for (const auto& y : s.yielded) {
    yielded.push_back({{"type", y.type}, {"status", y.status}, {"reason", y.reason}, {"message", y.message},
                       {"owner", "another writer (e.g. node-problem-detector)"}});
  }
  o["conditionsLeftToOthers"] = std::move(yielded);
  boost::json::array probes;
  for (const auto& r : s.probes) probes.push_back(probeResultJson(r));
  o["probes"] = std::move(probes);
  o["kubernetes"] = {{"configured", s.kubeConfigured}, {"ready", s.kubeReady}, {"lastError", s.kubeLastError}};
  return o;
}

}  // namespace aksnode
