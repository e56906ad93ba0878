#pragma once
// The agent's small HTTP server (/metrics, /healthz, /readyz, /status). Beast stays in the
// .cpp; the app only sees this interface. Request headers are limited to 8 KiB (431 beyond),
// bodies are read up to a small limit and ignored.
//
// It must keep answering the kubelet's liveness probe under any connection flood (arch/FAULTS.md,
// "Attacks on the running binary": 130 idle sockets once made /healthz answer 1 time in 40). So:
//  * a connection waiting for a request has headerTimeout to deliver all its headers, counted
//    from when it started waiting (an idle keep-alive connection and a slowloris trickle alike);
//  * at maxConnections a new connection is not refused: the connection that has been waiting
//    longest for its request is closed instead ("shed"), so a newcomer that sends its request
//    at once (a probe, a scrape) is always served; only if every connection is busy answering
//    is the newcomer refused;
//  * each shed or timed-out connection is reported through onShed (a metric and a log line).
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "metrics/metric_labels.h"

namespace aksnode {

struct ServerResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the event-loop thread for each request; path excludes the query string.
using RequestHandler = std::function<ServerResponse(std::string_view method, std::string_view path)>;

struct HttpServerLimits {
  std::size_t headerLimit = 8 * 1024;
  std::size_t bodyLimit = 64 * 1024;
  // From "waiting for a request" to its last header byte (kubelet and Prometheus send at once).
  std::chrono::milliseconds headerTimeout{5'000};
  // The rest of a request (its body) and the writing of the answer.
  std::chrono::milliseconds readTimeout{10'000};
  std::size_t maxConnections = 128;
};

// Why the server closed a connection on its own (metrics/metric_labels.h): Idle (shed to make
// room for a newcomer), HeaderTimeout (a request started but its headers did not arrive in
// time), Refused (every connection busy answering).
using ShedObserver = std::function<void(ShedReason reason)>;

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor executor, RequestHandler handler, HttpServerLimits limits = {});
  ~HttpServer();
  // Binds "host:port" ("[::1]:0" for IPv6, port 0 = any) and starts accepting.
  // Returns "" on success, else the reason.
  std::string listen(const std::string& address);
  unsigned short port() const;
  void stop();
  void onShed(ShedObserver observer);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace aksnode
