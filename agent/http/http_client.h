#pragma once
// The HTTP client seam. IMDS, the Kubernetes client and the identity probe talk through
// this interface; http_client_impl.h is the Beast implementation, tests use scripted fakes.
// Only <boost/asio/awaitable.hpp> here: Beast stays inside http_client_impl.cpp.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace aksnode {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: http://host:port/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole-exchange deadline: connect + TLS + write + read.
  std::chrono::milliseconds timeout{2000};
  // Responses with a larger body are refused (BodyTooLarge); arch/SECURITY.md "Bounded inputs" says 1 MiB.
  std::size_t bodyLimit = std::size_t{1} << 20;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Case-insensitive header lookup; "" when absent.
  std::string header(std::string_view name) const;
};

enum class HttpError {
  None,
  Timeout,      // deadline passed (slow or hung peer)
  Unreachable,  // DNS, connect refused, reset before a response
  BodyTooLarge,
  Protocol,     // malformed HTTP, truncated body
  Tls,          // handshake or certificate verification failed
  BadUrl,
  Cancelled,    // the agent is shutting down
};
const char* toString(HttpError error);

struct HttpResult {
  HttpError error = HttpError::None;
  std::string errorMessage;
  HttpResponse response;
  bool ok() const { return error == HttpError::None; }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Never throws: a network, TLS or URL problem comes back as HttpResult::error.
  virtual boost::asio::awaitable<HttpResult> send(HttpRequest request) = 0;
  // Abandon idle keep-alive connections and fail in-flight requests with Cancelled.
  virtual void shutdown() = 0;
};

}  // namespace aksnode
