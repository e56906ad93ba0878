#pragma once
// Talks to IMDS: Scheduled Events (GET and the acknowledging POST) and instance metadata.
// Every request carries `Metadata: true`, never X-Forwarded-For, and goes straight to the
// endpoint (the HTTP client never reads proxy variables). Each call is counted in
// aksnode_imds_requests_total{endpoint,result} and timed in aksnode_imds_request_duration_seconds.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "probes/scheduled_events/event_acknowledger.h"
#include "probes/scheduled_events/instance_metadata.h"
#include "probes/scheduled_events/parser.h"

namespace aksnode {

class HttpClient;
class Metrics;
class TimeSource;

struct ScheduledEventsFetch {
  ImdsOutcome outcome = ImdsOutcome::Unreachable;
  int status = 0;
  std::string message;                         // why, when not Ok
  std::optional<std::chrono::seconds> retryAfter;  // from a 429/503 Retry-After
  std::optional<ScheduledEventsDocument> document;  // when Ok
};

struct InstanceMetadataFetch {
  ImdsOutcome outcome = ImdsOutcome::Unreachable;
  std::string message;
  std::optional<InstanceMetadata> metadata;
};

class ImdsClient final : public EventAcknowledger {
 public:
  ImdsClient(HttpClient& http, const ImdsConfig& config, Metrics& metrics, const TimeSource& time);

  // With imds.timeout, or the given timeout (imds.firstCallTimeout for the enabling first call).
  boost::asio::awaitable<ScheduledEventsFetch> fetchScheduledEvents();
  boost::asio::awaitable<ScheduledEventsFetch> fetchScheduledEvents(std::chrono::milliseconds timeout);
  boost::asio::awaitable<InstanceMetadataFetch> fetchInstanceMetadata(std::chrono::milliseconds timeout);
  // POST {"StartRequests":[...]}: lets the events proceed (for every VM they name).
  boost::asio::awaitable<AcknowledgeResult> acknowledge(std::vector<std::string> eventIds) override;

  std::string scheduledEventsUrl() const;

 private:
  struct Raw;
  boost::asio::awaitable<Raw> call(const char* endpointLabel, std::string method, std::string url,
                                   std::string body, std::chrono::milliseconds timeout);
  void record(ImdsEndpoint endpoint, ImdsOutcome outcome, double seconds);

  HttpClient& http_;
  const ImdsConfig& config_;
  Metrics& metrics_;
  const TimeSource& time_;
  std::string base_;  // endpoint without a trailing slash
};

}  // namespace aksnode
