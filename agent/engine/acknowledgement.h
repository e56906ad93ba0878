#pragma once
// Approving a drained scheduled event (imds.acknowledgeAfterDrain): one IMDS request in flight
// per event, then the outcome as aksnode_actions_total{action="acknowledge"}, the
// EventAcknowledged Event and the event's phase. Whether an approval is due is the engine's
// (desired_state.h); the request is the EventAcknowledger's (probes/scheduled_events).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <set>
#include <string>

#include "agent/engine/agent_annotation.h"
#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode {

class EventAcknowledger;
class Metrics;
class NodeEventRecorder;

struct AcknowledgementDeps {
  EventAcknowledger& imds;
  Metrics& metrics;
  NodeEventRecorder& events;
  // Nothing is really approved (a dry run: DryRunAcknowledger logs what would be): the metric
  // says dry_run="true" and no EventAcknowledged is recorded.
  bool simulated = false;
  // Acknowledged: the event's phase moves on. Called on the event loop.
  std::function<void(const std::string& eventId, ActionPhase phase)> setPhase;
};

class AcknowledgementRunner {
 public:
  AcknowledgementRunner(boost::asio::any_io_executor executor, AcknowledgementDeps deps);
  // Sends the approval in the background, unless one for this event is still in flight. A
  // failed one is not retried here: the next pass starts it again while it is still due.
  void start(const ScheduledEvent& ev);

 private:
  boost::asio::awaitable<void> acknowledge(ScheduledEvent ev);
  void finish(const ScheduledEvent& ev, bool ok, const std::string& message);

  boost::asio::any_io_executor executor_;
  AcknowledgementDeps deps_;
  std::set<std::string> inFlight_;
};

}  // namespace aksnode
