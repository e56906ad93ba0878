#include "agent/app/outbound_http.h"

#include "agent/config/env_expand.h"
#include "agent/core/logging.h"

namespace aksnode {

namespace {

// The NO_PROXY list in one log field: every entry, up to a length that keeps the line readable.
constexpr std::size_t kMaxLoggedNoProxy = 2000;

std::string describe(const std::optional<ProxyTarget>& proxy) {
  if (!proxy) return "direct";
  if (!proxy->error.empty()) return "unusable";
  return proxy->display() + " (" + proxy->variable + (proxy->authorization.empty() ? "" : ", with credentials") + ")";
}

}  // namespace

const ProxyConfig& outboundProxy() {
  static const ProxyConfig config = ProxyConfig::fromEnvironment(processEnvironment());
  return config;
}

std::unique_ptr<HttpClientImpl> makeOutboundHttpClient(boost::asio::any_io_executor executor, TlsOptions tls,
                                                       const ProxyConfig& proxy) {
  return std::make_unique<HttpClientImpl>(std::move(executor), std::move(tls), proxy);
}

void logOutboundProxy(const ProxyConfig& proxy) {
  if (proxy.direct()) {
    log::info("outbound HTTP: no proxy (HTTPS_PROXY and HTTP_PROXY unset); IMDS is always direct");
    return;
  }
  std::string noProxy;
  std::size_t shown = 0;
  const auto entries = proxy.noProxyEntries();
  for (const auto& e : entries) {
    if (noProxy.size() + e.size() + 1 > kMaxLoggedNoProxy) break;
    noProxy += (noProxy.empty() ? "" : ",") + e;
    ++shown;
  }
  if (shown < entries.size()) noProxy += ",... (" + std::to_string(entries.size() - shown) + " more)";
  log::info("outbound HTTP proxy (API server, Entra ID, OIDC, webhooks; IMDS is always direct; localhost and "
            "loopback addresses are always direct)",
            {{"https", describe(proxy.httpsProxy())},
             {"http", describe(proxy.httpProxy())},
             {"noProxy", noProxy},
             {"noProxyVariable", entries.empty() ? std::string("unset") : proxy.noProxyVariable()}});
  for (const auto* p : {&proxy.httpsProxy(), &proxy.httpProxy()}) {
    if (*p && !(*p)->error.empty()) {
      log::error("proxy variable unusable: requests that would use it fail", {{"error", (*p)->error}});
    }
  }
}

}  // namespace aksnode
