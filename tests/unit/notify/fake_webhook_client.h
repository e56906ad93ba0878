#pragma once
// A webhook receiver behind the HttpClient seam, on simulated time: each request gets the next
// scripted reply (then `fallback`); a reply can answer at once, after a delay, or never (it then
// ends with Timeout when the request's own deadline passes, as the real client does).
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "agent/http/http_client.h"
#include "agent/core/timers.h"

namespace aksnode::testing {

struct WebhookReply {
  int status = 200;
  std::chrono::milliseconds delay{0};
  bool hang = false;
  HttpError error = HttpError::None;
  std::string errorMessage;
  std::vector<std::pair<std::string, std::string>> headers;
};

class FakeWebhookClient final : public HttpClient {
 public:
  struct Sent {
    HttpRequest request;
    MonotonicTime at;
  };

  explicit FakeWebhookClient(Timers& timers) : timers_(timers) {}

  boost::asio::awaitable<HttpResult> send(HttpRequest request) override {
    sent.push_back(Sent{request, timers_.now()});
    ++inFlight;
    WebhookReply reply = fallback;
    if (!script.empty()) {
      reply = script.front();
      script.pop_front();
    }
    HttpResult result;
    if (reply.hang || reply.delay > request.timeout) {
      co_await timers_.sleepFor(request.timeout);
      result.error = HttpError::Timeout;
      result.errorMessage = "POST " + request.url + ": timed out";
    } else {
      if (reply.delay.count() > 0) co_await timers_.sleepFor(reply.delay);
      result.error = reply.error;
      result.errorMessage = reply.errorMessage;
      result.response.status = reply.error == HttpError::None ? reply.status : 0;
      result.response.headers = reply.headers;
    }
    --inFlight;
    co_return result;
  }
  void shutdown() override {}

  std::vector<Sent> sent;
  std::deque<WebhookReply> script;
  WebhookReply fallback;
  int inFlight = 0;

 private:
  Timers& timers_;
};

}  // namespace aksnode::testing
