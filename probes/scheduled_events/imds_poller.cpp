#include "probes/scheduled_events/imds_poller.h"

#include <map>

#include "agent/core/logging.h"
#include "metrics/metrics.h"
#include "agent/http/http_date.h"
#include "probes/scheduled_events/poll_schedule.h"

namespace aksnode {

namespace asio = boost::asio;

namespace {
double unixSeconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void logChange(const LifecycleChange& change) {
  const auto& e = change.event.event;
  const std::string notBefore = e.notBefore ? formatRfc3339(*e.notBefore) : e.notBeforeRaw;
  switch (change.kind) {
    case LifecycleKind::Started:
      log::warn("scheduled event for this VM", {{"eventId", e.eventId},
                                                {"eventType", toString(e.type)},
                                                {"eventStatus", toString(e.status)},
                                                {"notBefore", notBefore},
                                                {"imminent", change.event.imminent},
                                                {"reappeared", change.reappeared},
                                                {"description", e.description}});
      break;
    case LifecycleKind::Changed:
      log::info("scheduled event changed", {{"eventId", e.eventId},
                                            {"eventType", toString(e.type)},
                                            {"eventStatus", toString(e.status)},
                                            {"notBefore", notBefore},
                                            {"changed", change.what.toString()}});
      break;
    case LifecycleKind::Ended:
      log::info("scheduled event ended", {{"eventId", e.eventId}, {"eventType", toString(e.type)}});
      break;
  }
}
}  // namespace

ImdsPoller::ImdsPoller(ImdsClient& client, const ImdsConfig& config, Metrics& metrics, const TimeSource& time)
    : client_(client), config_(config), metrics_(metrics), time_(time) {}

void ImdsPoller::stop() {
  stopped_ = true;
  if (alarm_) alarm_->wake();
}

void ImdsPoller::updateMetrics() {
  std::map<std::pair<std::string, std::string>, int> counts;
  for (const EventTypeName& known : kEventTypes) {
    const char* type = known.name;
    for (const char* st : {"Scheduled", "Started"}) counts[{type, st}] = 0;
  }
  for (const auto& key : extraSeries_) counts[key] = 0;
  for (const auto& p : tracker_.pending()) {
    const std::pair<std::string, std::string> key{toString(p.event.type), toString(p.event.status)};
    if (!counts.count(key)) extraSeries_.insert(key);
    counts[key]++;
  }
  for (const auto& [key, n] : counts) metrics_.scheduledEvents(key.first, key.second).Set(n);
  metrics_.evictionPending().Set(tracker_.evictionPending() ? 1 : 0);
  auto earliest = tracker_.earliestNotBefore(true);
  metrics_.evictionNotBefore().Set(earliest ? unixSeconds(*earliest) : 0);
  if (auto inc = tracker_.lastIncarnation()) metrics_.imdsDocumentIncarnation().Set(static_cast<double>(*inc));
}

std::chrono::milliseconds ImdsPoller::nextCallTimeout() const {
  if (!patientFirstCall_ || status_.everSucceeded) return config_.timeout;
  return std::max(config_.timeout, config_.firstCallTimeout);
}

asio::awaitable<bool> ImdsPoller::pollOnce(const OnDocument& onDocument) {
  const std::chrono::milliseconds timeout = nextCallTimeout();
  const bool first = !status_.everSucceeded && timeout > config_.timeout;
  if (first) {
    status_.firstCallInFlight = true;
    status_.firstCallStarted = time_.monotonicTime();
    if (status_.polls == 0) {
      log::info("first IMDS Scheduled Events call: it enables the service and may take up to 2 minutes",
                {{"timeoutMs", static_cast<long long>(timeout.count())}});
    }
  }
  ScheduledEventsFetch fetch = co_await client_.fetchScheduledEvents(timeout);
  status_.firstCallInFlight = false;
  ++status_.polls;
  status_.lastOutcome = fetch.outcome;
  retryAfter_ = fetch.retryAfter;
  if (!fetch.document) {
    ++status_.consecutiveFailures;
    status_.lastError = fetch.message;
    // First failure and then every 30th: a dead IMDS must be visible without flooding the log.
    if (status_.consecutiveFailures == 1 || status_.consecutiveFailures % 30 == 0) {
      log::warn("IMDS Scheduled Events poll failed",
                {{"result", toString(fetch.outcome)},
                 {"status", fetch.status},
                 {"error", fetch.message},
                 {"consecutiveFailures", status_.consecutiveFailures}});
    }
    co_return false;
  }
  if (status_.consecutiveFailures > 0) {
    log::info("IMDS Scheduled Events poll recovered", {{"failedPolls", status_.consecutiveFailures}});
  }
  status_.consecutiveFailures = 0;
  status_.everSucceeded = true;
  status_.lastError.clear();
  status_.lastSuccess = time_.systemTime();

  TrackerUpdate update = tracker_.update(*fetch.document, vmName_, time_.monotonicTime(), time_.systemTime());
  for (const auto& ignored : update.newlyIgnored) {
    log::info("scheduled event not for this VM or not actionable",
              {{"eventId", ignored.event.eventId},
               {"eventType", ignored.event.typeName},
               {"reason", ignored.reason},
               {"vm", vmName_},
               {"resources", static_cast<int>(ignored.event.resources.size())}});
  }
  for (const auto& problem : update.newProblems) log::warn("malformed scheduled event skipped", {{"problem", problem}});
  if (update.incarnationWentBack) {
    log::warn("IMDS DocumentIncarnation went back; trusting the new list",
              {{"previous", static_cast<long long>(update.previousIncarnation.value_or(0))},
               {"incarnation", static_cast<long long>(update.incarnation)}});
  }
  if (update.ignoredOtherVm) metrics_.imdsEventsIgnored(IgnoredEventReason::OtherVm).Increment(update.ignoredOtherVm);
  if (update.ignoredUnknownType) metrics_.imdsEventsIgnored(IgnoredEventReason::UnknownType).Increment(update.ignoredUnknownType);
  if (update.ignoredInvalid) metrics_.imdsEventsIgnored(IgnoredEventReason::Invalid).Increment(update.ignoredInvalid);
  for (const auto& [type, n] : update.newlySeen) metrics_.scheduledEventsSeen(toString(type)).Increment(n);
  for (const auto& change : update.changes) logChange(change);
  updateMetrics();
  if (onDocument) onDocument(update);
  co_return true;
}

asio::awaitable<void> ImdsPoller::run(Timers& timers, OnDocument onDocument) {
  alarm_ = timers.makeAlarm();
  while (!stopped_) {
    const MonotonicTime start = time_.monotonicTime();
    co_await pollOnce(onDocument);
    if (stopped_) break;
    const MonotonicTime due = PollSchedule::next(start, time_.monotonicTime(), config_.pollInterval,
                                                 status_.consecutiveFailures, retryAfter_);
    co_await alarm_->waitUntil(due);
  }
}

}  // namespace aksnode
