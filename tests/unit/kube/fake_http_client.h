#pragma once
// A scripted HttpClient: records every request, answers from a queue of results, then from
// a handler. Optional simulated latency goes through the test's Timers.
#include <boost/json.hpp>

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "agent/http/http_client.h"
#include "agent/core/timers.h"
#include "unit/http/http_results.h"

namespace aksnode::testing {

// A metav1.Status body; `causes` is a JSON array text ("" = none).
inline std::string statusBody(int code, const std::string& reason, const std::string& message,
                              const std::string& causes = "") {
  boost::json::object status{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
                             {"status", "Failure"}, {"message", message}, {"reason", reason}, {"code", code}};
  if (!causes.empty()) status["details"] = {{"causes", boost::json::parse(causes)}};
  return boost::json::serialize(status);
}

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<HttpResult(const HttpRequest&)>;

  explicit FakeHttpClient(Timers* timers = nullptr) : timers_(timers) {}

  boost::asio::awaitable<HttpResult> send(HttpRequest request) override {
    requests.push_back(request);
    if (timers_ != nullptr && latency.count() > 0) co_await timers_->sleepFor(latency);
    if (!script.empty()) {
      HttpResult r = std::move(script.front());
      script.pop_front();
      co_return r;
    }
    if (handler) co_return handler(requests.back());
    co_return httpFailure(HttpError::Unreachable, "no scripted response");
  }
  void shutdown() override { shutdownCalls++; }

  std::vector<HttpRequest> requests;
  std::deque<HttpResult> script;
  Handler handler;
  std::chrono::milliseconds latency{0};
  int shutdownCalls = 0;

 private:
  Timers* timers_;
};

}  // namespace aksnode::testing
