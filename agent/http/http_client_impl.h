#pragma once
// Beast implementation of HttpClient: plain HTTP (IMDS, tests) and HTTPS (API server,
// Entra ID, OIDC discovery), keep-alive pooling per origin (and proxy), one deadline per
// exchange, response body limit.
//
// Proxies: the client never reads the environment itself. With a ProxyConfig
// (agent/http/proxy_config.h; agent/app/outbound_http.h builds it from HTTPS_PROXY/HTTP_PROXY/
// NO_PROXY) plain http goes to the proxy with the absolute URI as request target, https through
// a CONNECT tunnel with TLS verified end to end against the target; the CONNECT answer is read
// with a header limit, and every step stays under the request's one deadline. The IMDS client is
// built without one: IMDS is always reached directly, whatever the variables say.
#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "agent/http/http_client.h"
#include "agent/http/proxy_config.h"
#include "agent/http/tls_options.h"

namespace aksnode {

class HttpClientImpl final : public HttpClient {
 public:
  // Throws std::runtime_error when the TLS material cannot be loaded (a configuration error).
  // `proxy` empty (the default): every request direct.
  HttpClientImpl(boost::asio::any_io_executor executor, TlsOptions tls = {}, ProxyConfig proxy = {});
  ~HttpClientImpl() override;
  boost::asio::awaitable<HttpResult> send(HttpRequest request) override;
  void shutdown() override;

  // Keep-alive connections kept per origin (and proxy); more concurrent requests open more connections.
  static constexpr std::size_t kMaxIdlePerOrigin = 64;

  struct State;  // the pool and TLS context, shared with in-flight coroutines

 private:
  std::shared_ptr<State> state_;
};

}  // namespace aksnode
