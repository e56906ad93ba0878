#pragma once
// What the HTTP endpoints answer (docs/interface.md, "HTTP endpoints"), separate from the server so the
// rules are unit-tested without sockets:
//   /metrics  Prometheus text format 0.0.4
//   /healthz  200 while the event loop turns (last tick younger than 3 poll intervals), else 503
//   /readyz   200 once IMDS and the API server have answered, else 503 with the reasons
//   /status   JSON snapshot
//   anything else 404
#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http/http_server.h"
#include "agent/core/time_source.h"

namespace aksnode {

class Metrics;

struct EndpointSources {
  Metrics* metrics = nullptr;
  std::function<MonotonicTime()> lastTick;
  std::function<MonotonicTime()> now;
  std::chrono::milliseconds pollInterval{1000};
  std::function<std::vector<std::string>()> readiness;  // empty = ready
  std::function<boost::json::object()> status;
};

class Endpoints {
 public:
  explicit Endpoints(EndpointSources sources) : s_(std::move(sources)) {}
  ServerResponse handle(std::string_view method, std::string_view path) const;

 private:
  EndpointSources s_;
};

}  // namespace aksnode
