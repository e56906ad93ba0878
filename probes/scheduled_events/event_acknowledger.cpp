// The dry run's stand-in for the IMDS acknowledgement (event_acknowledger.h).
#include "probes/scheduled_events/event_acknowledger.h"

#include "agent/core/logging.h"

namespace aksnode {

boost::asio::awaitable<AcknowledgeResult> DryRunAcknowledger::acknowledge(std::vector<std::string> eventIds) {
  for (const auto& id : eventIds) log::info("dry run: would acknowledge the scheduled event", {{"eventId", id}});
  co_return AcknowledgeResult{ImdsOutcome::Ok, "dry run"};
}

}  // namespace aksnode
