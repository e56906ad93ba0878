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

// How one approval went: the outcome is also the metric label, so a plain Result<void> would
// lose it.
struct AcknowledgeResult {
  ImdsOutcome outcome = ImdsOutcome::Ok;
  std::string message;  // why, when not Ok
  bool ok() const { return outcome == ImdsOutcome::Ok; }
};

class EventAcknowledger {
 public:
  virtual ~EventAcknowledger() = default;
  // Lets the events proceed (for every VM they name).
  virtual boost::asio::awaitable<AcknowledgeResult> acknowledge(std::vector<std::string> eventIds) = 0;
};

// --dry-run: approves nothing, logs "dry run: would acknowledge the scheduled event" and answers Ok.
class DryRunAcknowledger final : public EventAcknowledger {
 public:
  boost::asio::awaitable<AcknowledgeResult> acknowledge(std::vector<std::string> eventIds) override;
};

}  // namespace aksnode
