#pragma once
// The Scheduled Events loop: poll IMDS on PollSchedule, feed good documents to the
// EventTracker, keep the scheduled-events metrics true, and tell the engine after every
// good document (level-triggered: it reconciles with tracker().pending() each time).
// A bad poll never ends an event: the tracker only sees documents that parsed.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "agent/core/timers.h"
#include "probes/scheduled_events/event_tracker.h"
#include "probes/scheduled_events/imds_client.h"

namespace aksnode {

struct ImdsPollStatus {
  bool everSucceeded = false;
  // Until a Scheduled Events call has been answered with a document, every call may be the one
  // that enables the service (up to 2 minutes): it gets imds.firstCallTimeout.
  bool firstCallInFlight = false;
  MonotonicTime firstCallStarted{};
  ImdsOutcome lastOutcome = ImdsOutcome::Unreachable;
  std::string lastError;
  int consecutiveFailures = 0;
  std::uint64_t polls = 0;
  SystemTime lastSuccess{};
};

class ImdsPoller {
 public:
  using OnDocument = std::function<void(const TrackerUpdate&)>;
  ImdsPoller(ImdsClient& client, const ImdsConfig& config, Metrics& metrics, const TimeSource& time);

  // The VM name events must name to be ours ("" until known: then nothing is ours).
  void setVmName(std::string name) { vmName_ = std::move(name); }
  const std::string& vmName() const { return vmName_; }

  // Runs until stop(), waiting between polls on an Alarm from `timers` (whose time() is the
  // TimeSource given to the constructor). onDocument is called after each good document.
  boost::asio::awaitable<void> run(Timers& timers, OnDocument onDocument);
  // One poll (also used by --once). Returns true when the document was good.
  boost::asio::awaitable<bool> pollOnce(const OnDocument& onDocument);
  // False: even the first call gets imds.timeout (--once reports at once, it does not wait
  // for the service to be enabled).
  void setPatientFirstCall(bool patient) { patientFirstCall_ = patient; }
  // The timeout the next Scheduled Events call gets.
  std::chrono::milliseconds nextCallTimeout() const;
  void stop();

  const EventTracker& tracker() const { return tracker_; }
  const ImdsPollStatus& status() const { return status_; }

 private:
  void updateMetrics();

  ImdsClient& client_;
  const ImdsConfig& config_;
  Metrics& metrics_;
  const TimeSource& time_;
  EventTracker tracker_;
  ImdsPollStatus status_;
  std::string vmName_;
  std::optional<std::chrono::seconds> retryAfter_;
  // aksnode_scheduled_events series set beyond the known ones (an undocumented EventStatus is
  // kept as "Unknown"): reset to 0 with the rest once their event is gone.
  std::set<std::pair<std::string, std::string>> extraSeries_;
  bool stopped_ = false;
  bool patientFirstCall_ = true;
  std::unique_ptr<Alarm> alarm_;  // the wait between polls, woken by stop()
};

}  // namespace aksnode
