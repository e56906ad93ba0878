#include "probes/scheduled_events/imds_client.h"

#include <algorithm>

#include "agent/http/http_client.h"
#include "agent/http/retry_after.h"
#include "agent/core/time_source.h"
#include "metrics/metrics.h"

namespace aksnode {

struct ImdsClient::Raw {
  ImdsOutcome outcome = ImdsOutcome::Unreachable;
  HttpResponse response;
  std::string message;
  double seconds = 0;
};

namespace {
std::string snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return s;
}

// An Ok answer's body through `parse` (a result with ok() and error): what it parsed goes to
// `keep`; a body it rejects makes the call BadResponse, with `what` and the reason as message.
template <class Parse, class Keep>
ImdsOutcome parseOkBody(ImdsOutcome outcome, const std::string& body, Parse parse, Keep keep, const char* what,
                        std::string& message) {
  if (outcome != ImdsOutcome::Ok) return outcome;
  auto parsed = parse(body);
  if (!parsed.ok()) {
    message = std::string("unusable ") + what + ": " + parsed.error();
    return ImdsOutcome::BadResponse;
  }
  keep(std::move(parsed));
  return outcome;
}
}  // namespace

ImdsClient::ImdsClient(HttpClient& http, const ImdsConfig& config, Metrics& metrics, const TimeSource& time)
    : http_(http), config_(config), metrics_(metrics), time_(time), base_(config.endpoint) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string ImdsClient::scheduledEventsUrl() const {
  return base_ + "/metadata/scheduledevents?api-version=" + config_.scheduledEventsApiVersion;
}

void ImdsClient::record(ImdsEndpoint endpoint, ImdsOutcome outcome, double seconds) {
  metrics_.imdsRequest(endpoint, outcome).Increment();
  metrics_.imdsDuration(endpoint).Observe(seconds);
}

boost::asio::awaitable<ImdsClient::Raw> ImdsClient::call(const char* endpointLabel, std::string method,
                                                         std::string url, std::string body,
                                                         std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.headers = {{"Metadata", "true"}, {"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  req.timeout = timeout;
  req.bodyLimit = kMaxImdsBodyBytes;
  const auto start = time_.monotonicTime();
  HttpResult r = co_await http_.send(std::move(req));
  Raw raw;
  raw.seconds = std::chrono::duration<double>(time_.monotonicTime() - start).count();
  switch (r.error) {
    case HttpError::None: break;
    case HttpError::Timeout:
      raw.outcome = ImdsOutcome::Timeout;
      raw.message = r.errorMessage;
      co_return raw;
    case HttpError::BodyTooLarge:
    case HttpError::Protocol:
      raw.outcome = ImdsOutcome::BadResponse;
      raw.message = r.errorMessage;
      co_return raw;
    default:
      raw.outcome = ImdsOutcome::Unreachable;
      raw.message = r.errorMessage;
      co_return raw;
  }
  raw.response = std::move(r.response);
  const int status = raw.response.status;
  if (status == 429) {
    raw.outcome = ImdsOutcome::Throttled;
    raw.message = "HTTP 429 from IMDS (more than 5 requests/s?)";
  } else if (status < 200 || status >= 300) {
    raw.outcome = ImdsOutcome::HttpError;
    raw.message = "HTTP " + std::to_string(status) + " from IMDS: " + snippet(raw.response.body);
  } else {
    raw.outcome = ImdsOutcome::Ok;
  }
  (void)endpointLabel;
  co_return raw;
}

boost::asio::awaitable<ScheduledEventsFetch> ImdsClient::fetchScheduledEvents() {
  co_return co_await fetchScheduledEvents(config_.timeout);
}

boost::asio::awaitable<ScheduledEventsFetch> ImdsClient::fetchScheduledEvents(std::chrono::milliseconds timeout) {
  Raw raw = co_await call("scheduledevents", "GET", scheduledEventsUrl(), {}, timeout);
  ScheduledEventsFetch out;
  out.status = raw.response.status;
  out.message = raw.message;
  if (raw.outcome == ImdsOutcome::Throttled || raw.response.status == 503) {
    out.retryAfter = parseRetryAfter(raw.response.header("Retry-After"), time_.systemTime());
    if (out.retryAfter) out.retryAfter = std::min<std::chrono::seconds>(*out.retryAfter, std::chrono::seconds(300));
  }
  out.outcome = parseOkBody(
      raw.outcome, raw.response.body, parseScheduledEvents,
      [&](Result<ScheduledEventsDocument> parsed) { out.document = std::move(parsed).value(); },
      "Scheduled Events document", out.message);
  record(ImdsEndpoint::ScheduledEvents, out.outcome, raw.seconds);
  co_return out;
}

boost::asio::awaitable<InstanceMetadataFetch> ImdsClient::fetchInstanceMetadata(std::chrono::milliseconds timeout) {
  Raw raw = co_await call("instance", "GET", base_ + "/metadata/instance?api-version=" + config_.instanceApiVersion,
                          {}, timeout);
  InstanceMetadataFetch out;
  out.message = raw.message;
  out.outcome = parseOkBody(
      raw.outcome, raw.response.body, parseInstanceMetadata,
      [&](Result<InstanceMetadata> parsed) { out.metadata = std::move(parsed).value(); }, "instance metadata",
      out.message);
  record(ImdsEndpoint::Instance, out.outcome, raw.seconds);
  co_return out;
}

boost::asio::awaitable<AcknowledgeResult> ImdsClient::acknowledge(std::vector<std::string> eventIds) {
  Raw raw = co_await call("acknowledge", "POST", scheduledEventsUrl(), serializeStartRequests(eventIds),
                          config_.timeout);
  record(ImdsEndpoint::Acknowledge, raw.outcome, raw.seconds);
  co_return AcknowledgeResult{raw.outcome, std::move(raw.message)};
}

}  // namespace aksnode
