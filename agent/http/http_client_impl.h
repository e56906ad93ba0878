#pragma once
// Beast implementation of HttpClient: plain HTTP (IMDS, tests) and HTTPS (API server,
// Entra ID, OIDC discovery), keep-alive pooling per origin, one deadline per exchange,
// response body limit. Never reads proxy variables: IMDS must be reached directly.
#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "agent/http/http_client.h"
#include "agent/http/tls_options.h"

namespace aksnode {

class HttpClientImpl final : public HttpClient {
 public:
  // Throws std::runtime_error when the TLS material cannot be loaded (a configuration error).
  HttpClientImpl(boost::asio::any_io_executor executor, TlsOptions tls = {});
  ~HttpClientImpl() override;
  boost::asio::awaitable<HttpResult> send(HttpRequest request) override;
  void shutdown() override;

  // Keep-alive connections kept per origin; more concurrent requests open more connections.
  static constexpr std::size_t kMaxIdlePerOrigin = 64;

  struct State;  // the pool and TLS context, shared with in-flight coroutines

 private:
  std::shared_ptr<State> state_;
};

}  // namespace aksnode
