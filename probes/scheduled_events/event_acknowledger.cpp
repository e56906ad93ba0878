// The dry run's stand-in for the IMDS acknowledgement (event_acknowledger.h).
#include "probes/scheduled_events/event_acknowledger.h"

#include "agent/core/logging.h"

namespace aksnode {

boost::asio::awaitable<ImdsOutcome> DryRunAcknowledger::acknowledge(std::vector<std::string> eventIds,
                                                                    std::string* message) {
  for (const auto& id : eventIds) log::info("dry run: would acknowledge the scheduled event", {{"eventId", id}});
  if (message) *message = "dry run";
  co_return ImdsOutcome::Ok;
}

}  // namespace aksnode
