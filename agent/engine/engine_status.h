#pragma once
// The engine's part of /status (docs/interface.md): pending events, the current action, the
// drain (running, or the last one's outcome), the node as last read, the conditions left to
// other writers, the probes and the API server's state. A function of a plain snapshot, not of
// the engine, so that whatever has these facts (ActionEngine::statusJson(), a one-shot report)
// prints them the same way.
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/condition_shapes.h"
#include "agent/engine/desired_state.h"
#include "agent/engine/drain_runner.h"
#include "agent/engine/node_view.h"

namespace aksnode {

struct EngineStatusSnapshot {
  std::vector<PendingEvent> pending;
  std::optional<ActiveEvent> active;        // chooseActiveEvent(pending, config)
  std::optional<ActionPhase> localPhase;    // the engine's own phase for the active event
  std::optional<NodeView> node;             // as last read (or written)
  std::optional<std::string> drainEventId;  // set while a drain runs
  DrainProgress drainProgress;              // of the running drain
  std::optional<DrainSummary> lastDrain;    // outcome of the last finished drain
  std::vector<YieldedCondition> yielded;
  std::vector<ProbeResult> probes;
  bool kubeConfigured = false;
  bool kubeReady = false;
  std::string kubeLastError;  // or why no API server is configured
};

boost::json::object engineStatusJson(const EngineStatusSnapshot& s);

}  // namespace aksnode
