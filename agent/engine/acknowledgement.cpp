// Approving a drained scheduled event through IMDS (see acknowledgement.h).
#include "agent/engine/acknowledgement.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "agent/engine/events.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"
#include "probes/scheduled_events/event_acknowledger.h"

namespace aksnode {

AcknowledgementRunner::AcknowledgementRunner(boost::asio::any_io_executor executor, AcknowledgementDeps deps)
    : executor_(std::move(executor)), deps_(std::move(deps)) {}

void AcknowledgementRunner::start(const ScheduledEvent& ev) {
  if (!inFlight_.insert(ev.eventId).second) return;
  boost::asio::co_spawn(executor_, acknowledge(ev), boost::asio::detached);
}

boost::asio::awaitable<void> AcknowledgementRunner::acknowledge(ScheduledEvent ev) {
  std::vector<std::string> ids;
  ids.push_back(ev.eventId);
  const AcknowledgeResult result = co_await deps_.imds.acknowledge(std::move(ids));
  finish(ev, result.ok(), result.message);
}

void AcknowledgementRunner::finish(const ScheduledEvent& ev, bool ok, const std::string& message) {
  deps_.metrics.action(NodeAction::Acknowledge, ok, deps_.simulated).Increment();
  inFlight_.erase(ev.eventId);
  if (!ok) {
    log::error("cannot acknowledge the scheduled event", {{"eventId", ev.eventId}, {"error", message}});
    return;  // the next pass tries again while the event is pending and drained
  }
  if (!deps_.simulated) {
    deps_.events.record(events::eventAcknowledged(ev));
    log::info("scheduled event acknowledged", {{"eventId", ev.eventId}, {"eventType", toString(ev.type)}});
  }
  deps_.setPhase(ev.eventId, ActionPhase::Acknowledged);
}

}  // namespace aksnode
