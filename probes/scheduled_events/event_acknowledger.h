#pragma once
// What the action engine needs from IMDS: approving scheduled events (the POST of StartRequests)
// once the node is drained. A pure interface so the engine does not see the IMDS client (its
// HTTP, metrics and document parsing): ImdsClient implements it, a dry run uses
// DryRunAcknowledger (logs what it would approve), tests script it.
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "metrics/metric_labels.h"  // ImdsOutcome

namespace aksnode {

class EventAcknowledger {
 public:
  virtual ~EventAcknowledger() = default;
  // Lets the events proceed (for every VM they name). message: why, when not Ok.
  virtual boost::asio::awaitable<ImdsOutcome> acknowledge(std::vector<std::string> eventIds, std::string* message) = 0;
};

// --dry-run: approves nothing, logs "dry run: would acknowledge the scheduled event" and answers Ok.
class DryRunAcknowledger final : public EventAcknowledger {
 public:
  boost::asio::awaitable<ImdsOutcome> acknowledge(std::vector<std::string> eventIds, std::string* message) override;
};

}  // namespace aksnode
