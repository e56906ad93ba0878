#pragma once
// HTTP clients for everything the agent sends off the node except IMDS: the API server, Entra ID,
// OIDC discovery and JWKS, webhooks. They follow HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case;
// the rules are in agent/http/proxy_config.h), as AKS's HTTP proxy feature sets them in pods.
// The IMDS client is a plain HttpClientImpl without a ProxyConfig: IMDS is always direct,
// whether or not NO_PROXY names 169.254.169.254.
#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "agent/http/http_client_impl.h"
#include "agent/http/proxy_config.h"
#include "agent/http/tls_options.h"

namespace aksnode {

// The proxy configuration of this process, read from the environment once (first call).
const ProxyConfig& outboundProxy();

// A client for outbound requests: `tls` as for any HttpClientImpl, proxies from `proxy`
// (the process environment by default). Throws like HttpClientImpl when the TLS material is
// unusable.
std::unique_ptr<HttpClientImpl> makeOutboundHttpClient(boost::asio::any_io_executor executor, TlsOptions tls = {},
                                                       const ProxyConfig& proxy = outboundProxy());

// One start-up log line: which proxy is in effect for https and http targets (credentials
// never shown), the NO_PROXY list as understood, and an error line for each proxy variable
// that is set but unusable (requests that would use it fail, naming the reason).
void logOutboundProxy(const ProxyConfig& proxy = outboundProxy());

}  // namespace aksnode
