#pragma once
// The agent's small HTTP server (/metrics, /healthz, /readyz, /status). Beast stays in the
// .cpp; the app only sees this interface. Every read has a timeout, request headers are
// limited to 8 KiB (431 beyond), bodies are read up to a small limit and ignored.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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
  std::chrono::milliseconds readTimeout{10'000};
  std::size_t maxConnections = 128;
};

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor executor, RequestHandler handler, HttpServerLimits limits = {});
  ~HttpServer();
  // Binds "host:port" ("[::1]:0" for IPv6, port 0 = any) and starts accepting.
  // Returns "" on success, else the reason.
  std::string listen(const std::string& address);
  unsigned short port() const;
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace aksnode
