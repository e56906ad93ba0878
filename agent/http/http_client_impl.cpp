#include "agent/http/http_client_impl.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <variant>

#include "agent/http/proxy_config.h"
#include "agent/core/host_port.h"
#include "agent/core/input_file.h"
#include "build_info.h"

namespace aksnode {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 64 * 1024;
// A proxy's answer to CONNECT is a status line and a few headers; more is refused.
constexpr std::size_t kConnectHeaderLimit = 16 * 1024;

struct Origin {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::optional<ProxyTarget> proxy;  // reached through this proxy (agent/http/proxy_config.h)
  // host:port with brackets for IPv6: the CONNECT target and the pool key's origin part.
  std::string hostPort() const {
    return joinHostPort(host, port);
  }
  std::string url() const { return (tls ? "https://" : "http://") + hostPort(); }
  // Pool key: the origin, and the proxy it is reached through (never the credentials).
  std::string key() const { return url() + via(); }
  std::string via() const { return proxy ? " via proxy " + proxy->display() : std::string(); }
};

bool isIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

struct Connection {
  explicit Connection(Origin o) : origin(std::move(o)) {}
  Origin origin;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }
};
using ConnectionPtr = std::shared_ptr<Connection>;

HttpResult failure(HttpError e, std::string message) {
  HttpResult r;
  r.error = e;
  r.errorMessage = std::move(message);
  return r;
}

// Maps an I/O error to the few kinds of failure callers and metrics tell apart (timeout, refused
// body, cancelled, TLS, connection); arch/FAULTS.md lists the faults behind each.
HttpError classify(const beast::error_code& ec, bool headerSeen) {
  if (ec == beast::error::timeout) return HttpError::Timeout;
  if (ec == http::error::body_limit) return HttpError::BodyTooLarge;
  if (ec == asio::error::operation_aborted) return HttpError::Cancelled;
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return HttpError::Tls;
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof) {
    return headerSeen ? HttpError::Protocol : HttpError::Unreachable;
  }
  if (headerSeen) return HttpError::Protocol;  // reset mid-body: the answer is incomplete
  return HttpError::Unreachable;
}

// OpenSSL's SSL_set_tlsext_host_name is a macro with a C-style cast.
bool setSni(SSL* ssl, const std::string& host) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
#pragma GCC diagnostic pop
}

// CA, certificate and key files are read here, not by OpenSSL's *_file functions, so that a
// FIFO or device in their place is refused instead of blocking the event loop.
std::string pemFile(const std::string& path, const char* what) {
  constexpr std::size_t kMaxPemBytes = 1 << 20;
  InputFile file = readInputFile(path, kMaxPemBytes);
  if (!file.ok()) throw std::runtime_error(std::string(what) + " file " + path + ": " + file.error);
  return std::move(file.text);
}

bool isStaleKeepAlive(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

}  // namespace

struct HttpClientImpl::State {
  State(asio::any_io_executor ex, TlsOptions options, ProxyConfig proxies)
      : executor(std::move(ex)), tls(std::move(options)), proxy(std::move(proxies)) {
    // Explicit CA or client certificate files fail at start-up, where a typo is easiest to see.
    // The system store (~140 certificates, over a MiB once parsed) is loaded on the first
    // https request instead: the IMDS client and a disabled identity check never need it.
    if (!tls.caPem.empty() || !tls.caFile.empty() || !tls.clientCertPem.empty() || !tls.clientCertFile.empty()) {
      sslContext();
    }
  }

  ssl::context& sslContext() {
    if (!ssl) {
      ssl.emplace(ssl::context::tls_client);
      ssl->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      // Verification is always on; there is deliberately no way to turn it off.
      ssl->set_verify_mode(ssl::verify_peer);
      try {
        if (!tls.caPem.empty()) {
          ssl->add_certificate_authority(asio::buffer(tls.caPem));
        } else if (!tls.caFile.empty()) {
          ssl->add_certificate_authority(asio::buffer(pemFile(tls.caFile, "CA")));
        } else {
          ssl->set_default_verify_paths();
        }
        if (!tls.clientCertPem.empty()) ssl->use_certificate_chain(asio::buffer(tls.clientCertPem));
        if (!tls.clientCertFile.empty()) {
          ssl->use_certificate_chain(asio::buffer(pemFile(tls.clientCertFile, "client certificate")));
        }
        if (!tls.clientKeyPem.empty()) ssl->use_private_key(asio::buffer(tls.clientKeyPem), ssl::context::pem);
        if (!tls.clientKeyFile.empty()) {
          ssl->use_private_key(asio::buffer(pemFile(tls.clientKeyFile, "client key")), ssl::context::pem);
        }
      } catch (...) {
        ssl.reset();  // half set up: try again next time rather than connect with it
        throw;
      }
    }
    return *ssl;
  }

  ConnectionPtr takeIdle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    ConnectionPtr c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }

  void giveBack(ConnectionPtr c) {
    auto& list = idle[c->origin.key()];
    if (shuttingDown || list.size() >= kMaxIdlePerOrigin) {
      c->close();
      return;
    }
    list.push_back(std::move(c));
  }

  void track(const ConnectionPtr& c) {
    if (all.size() > 256) {
      std::erase_if(all, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
    }
    all.push_back(c);
  }

  asio::any_io_executor executor;
  TlsOptions tls;
  ProxyConfig proxy;  // empty: every request direct (IMDS)
  std::optional<ssl::context> ssl;  // see sslContext()
  std::map<std::string, std::vector<ConnectionPtr>> idle;
  std::vector<std::weak_ptr<Connection>> all;
  bool shuttingDown = false;
};

namespace {

// CONNECT host:port through the proxy on conn->plain (RFC 9110 section 9.3.6), under the
// stream's deadline. nullopt when the tunnel is open; otherwise the failure, naming the proxy.
asio::awaitable<std::optional<HttpResult>> openTunnel(Connection& conn, const Origin& origin) {
  const ProxyTarget& proxy = *origin.proxy;
  const std::string where = "proxy " + proxy.display() + " (" + proxy.variable + ")";
  http::request<http::empty_body> req{http::verb::connect, origin.hostPort(), 11};
  req.set(http::field::host, origin.hostPort());
  req.set(http::field::user_agent, std::string("aks-node-agent/") + build::kVersion);
  if (!proxy.authorization.empty()) req.set(http::field::proxy_authorization, proxy.authorization);
  auto [wec, written] = co_await http::async_write(*conn.plain, req, kUseTuple);
  (void)written;
  auto ioFailure = [&](const beast::error_code& ec, const char* doing) {
    const HttpError e = ec == beast::error::timeout ? HttpError::Timeout
                        : ec == asio::error::operation_aborted ? HttpError::Cancelled
                                                               : HttpError::Unreachable;
    std::string why = ec.message();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      why = "its answer's header is over " + std::to_string(kConnectHeaderLimit / 1024) + " KiB";
    } else if (ec == beast::error::timeout) {
      why = "no answer before the request's deadline";
    } else if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof) {
      why = "the proxy closed the connection";
    }
    return failure(e, where + " " + doing + " CONNECT " + origin.hostPort() + ": " + why);
  };
  if (wec) co_return ioFailure(wec, "did not take");
  // The answer goes into a bounded buffer of its own: a proxy that sends an endless header
  // stops at the limit, one that trickles it stops at the deadline.
  beast::flat_buffer buffer(kConnectHeaderLimit + 1024);
  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kConnectHeaderLimit));
  parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts after the header
  auto [rec, read] = co_await http::async_read_header(*conn.plain, buffer, parser, kUseTuple);
  (void)read;
  if (rec) co_return ioFailure(rec, "did not answer");
  const unsigned status = parser.get().result_int();
  if (status < 200 || status > 299) {
    std::string reason(parser.get().reason().substr(0, 120));
    std::string message = where + " refused CONNECT " + origin.hostPort() + ": HTTP " + std::to_string(status) +
                          (reason.empty() ? "" : " " + reason);
    if (status == 407) {
      message += proxy.authorization.empty()
                     ? " (the proxy wants credentials: put them in " + proxy.variable +
                           " as http://user:password@host:port)"
                     : " (the proxy refused the credentials in " + proxy.variable + ")";
    }
    co_return failure(HttpError::Unreachable, std::move(message));
  }
  if (buffer.size() != 0) {
    // The target speaks only after our ClientHello: bytes here are the proxy's, not TLS.
    co_return failure(HttpError::Unreachable,
                      where + " sent data after its CONNECT " + origin.hostPort() + " answer, before the TLS handshake");
  }
  co_return std::nullopt;
}

// Resolve and connect (and handshake for TLS) before the deadline; through the origin's proxy
// when it has one (plain http: the proxy is the peer; https: CONNECT, then TLS with the
// target end to end: SNI and name verification of the target, never of the proxy).
asio::awaitable<std::variant<ConnectionPtr, HttpResult>> connect(HttpClientImpl::State& state, const Origin& origin,
                                                                 Clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_shared<Connection>(origin);
  const std::string& dialHost = origin.proxy ? origin.proxy->host : origin.host;
  const std::string& dialPort = origin.proxy ? origin.proxy->port : origin.port;
  const std::string peer = origin.proxy ? "proxy " + origin.proxy->display() + " (" + origin.proxy->variable + ")"
                                        : origin.host + ":" + origin.port;
  tcp::resolver::results_type endpoints;
  if (isIpLiteral(dialHost)) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(dialHost, ec);
    unsigned long port = std::stoul(dialPort);
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, static_cast<unsigned short>(port)),
                                                    dialHost, dialPort);
  } else {
    tcp::resolver resolver(ex);
    asio::steady_timer timer(ex, deadline);
    auto [order, ec, results, timerEc] = co_await asio::experimental::make_parallel_group(
        resolver.async_resolve(dialHost, dialPort, asio::deferred),
        timer.async_wait(asio::deferred)).async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)timerEc;
    const std::string what = origin.proxy ? peer : dialHost;
    if (order[0] == 1) co_return failure(HttpError::Timeout, "resolving " + what + " timed out");
    if (ec) co_return failure(HttpError::Unreachable, "cannot resolve " + what + ": " + ec.message());
    endpoints = results;
  }
  if (origin.tls && !origin.proxy) {
    std::string tlsSetupError;
    try {
      conn->secure.emplace(ex, state.sslContext());
    } catch (const std::exception& e) {
      tlsSetupError = e.what();
    }
    // co_return is not allowed inside a handler: report after it.
    if (!tlsSetupError.empty()) co_return failure(HttpError::Tls, "TLS set-up failed: " + tlsSetupError);
  } else {
    conn->plain.emplace(ex);
  }
  beast::tcp_stream& tcpStream = conn->lowest();
  tcpStream.expires_at(deadline);
  auto [ec, ep] = co_await tcpStream.async_connect(endpoints, kUseTuple);
  (void)ep;
  if (ec) {
    HttpError e = ec == beast::error::timeout ? HttpError::Timeout
                  : (ec == asio::error::operation_aborted ? HttpError::Cancelled : HttpError::Unreachable);
    co_return failure(e, "connect to " + peer + (origin.proxy ? " for " + origin.url() : "") + ": " + ec.message());
  }
  tcpStream.socket().set_option(tcp::no_delay(true));
  state.track(conn);  // from here on shutdown() can close it, tunnel or not
  if (origin.tls && origin.proxy) {
    if (auto refused = co_await openTunnel(*conn, origin)) {
      conn->close();
      co_return std::move(*refused);
    }
    std::string tlsSetupError;
    try {
      conn->secure.emplace(std::move(*conn->plain), state.sslContext());
      conn->plain.reset();
    } catch (const std::exception& e) {
      tlsSetupError = e.what();
    }
    if (!tlsSetupError.empty()) {
      conn->close();
      co_return failure(HttpError::Tls, "TLS set-up failed: " + tlsSetupError);
    }
    conn->lowest().expires_at(deadline);
  }
  if (origin.tls) {
    // SNI only for host names (RFC 6066 forbids IP literals); verify the name or IP always.
    if (!isIpLiteral(origin.host) && !setSni(conn->secure->native_handle(), origin.host)) {
      co_return failure(HttpError::Tls, "cannot set SNI for " + origin.host);
    }
    conn->secure->set_verify_callback(ssl::host_name_verification(origin.host));
    auto [hec] = co_await conn->secure->async_handshake(ssl::stream_base::client, kUseTuple);
    if (hec) {
      conn->close();
      const bool tlsError = hec.category() == asio::error::get_ssl_category() ||
                            hec.category() == asio::ssl::error::get_stream_category();
      HttpError e = hec == beast::error::timeout ? HttpError::Timeout
                    : hec == asio::error::operation_aborted ? HttpError::Cancelled
                    : (tlsError || !origin.proxy)          ? HttpError::Tls
                                                           : HttpError::Unreachable;  // the tunnel broke
      co_return failure(e, "TLS handshake with " + origin.host + origin.via() + ": " + hec.message());
    }
  }
  co_return conn;
}

template <typename Stream>
asio::awaitable<std::pair<beast::error_code, bool>> exchange(Stream& stream, beast::flat_buffer& buffer,
                                                             http::request<http::string_body>& req,
                                                             http::response_parser<http::string_body>& parser) {
  auto [wec, written] = co_await http::async_write(stream, req, kUseTuple);
  (void)written;
  if (wec) co_return std::pair{wec, false};
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  (void)read;
  co_return std::pair{rec, parser.is_header_done()};
}

}  // namespace

HttpClientImpl::HttpClientImpl(asio::any_io_executor executor, TlsOptions tls, ProxyConfig proxy)
    : state_(std::make_shared<State>(std::move(executor), std::move(tls), std::move(proxy))) {}

HttpClientImpl::~HttpClientImpl() { shutdown(); }

void HttpClientImpl::shutdown() {
  state_->shuttingDown = true;
  for (auto& [key, list] : state_->idle) {
    for (auto& c : list) c->close();
  }
  state_->idle.clear();
  for (auto& w : state_->all) {
    if (auto c = w.lock()) c->close();
  }
  state_->all.clear();
}

asio::awaitable<HttpResult> HttpClientImpl::send(HttpRequest request) {
  auto state = state_;  // keeps the pool alive while this coroutine runs
  if (state->shuttingDown) co_return failure(HttpError::Cancelled, "client is shutting down");

  auto parsed = boost::urls::parse_absolute_uri(request.url);
  if (!parsed) co_return failure(HttpError::BadUrl, "invalid URL: " + request.url);
  const boost::urls::url_view url = *parsed;
  Origin origin;
  if (url.scheme() == "https") {
    origin.tls = true;
  } else if (url.scheme() != "http") {
    co_return failure(HttpError::BadUrl, "unsupported scheme in " + request.url);
  }
  if (url.host_type() == boost::urls::host_type::ipv6) {
    origin.host = url.host_ipv6_address().to_string();
  } else {
    origin.host = url.host();
  }
  if (origin.host.empty()) co_return failure(HttpError::BadUrl, "no host in " + request.url);
  origin.port = url.has_port() ? std::string(url.port()) : (origin.tls ? "443" : "80");
  std::string target = url.encoded_target().empty() ? "/" : std::string(url.encoded_target());
  if (target.front() != '/') target.insert(target.begin(), '/');

  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) co_return failure(HttpError::BadUrl, "unknown method " + request.method);

  origin.proxy = state->proxy.proxyFor(origin.tls, origin.host, origin.port);
  if (origin.proxy && !origin.proxy->error.empty()) {
    co_return failure(HttpError::Unreachable, "cannot reach " + origin.url() + ": " + origin.proxy->error);
  }
  // Plain http through a proxy: the absolute URI is the request target (RFC 9112 section 3.2.2),
  // and the credentials go to the proxy. https: the request goes inside the CONNECT tunnel as if
  // direct, and the proxy's credentials stay on the CONNECT.
  const bool forwarded = origin.proxy && !origin.tls;
  std::string hostHeader(url.encoded_host_and_port());
  http::request<http::string_body> req{verb, forwarded ? "http://" + hostHeader + target : target, 11};
  req.set(http::field::host, hostHeader);
  req.set(http::field::user_agent, std::string("aks-node-agent/") + build::kVersion);
  for (const auto& [k, v] : request.headers) req.set(k, v);
  if (forwarded && !origin.proxy->authorization.empty()) {
    req.set(http::field::proxy_authorization, origin.proxy->authorization);
  }
  req.body() = std::move(request.body);
  req.keep_alive(true);
  req.prepare_payload();

  const auto deadline = Clock::now() + request.timeout;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ConnectionPtr conn = attempt == 0 ? state->takeIdle(origin.key()) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      auto connected = co_await connect(*state, origin, deadline);
      if (auto* err = std::get_if<HttpResult>(&connected)) co_return std::move(*err);
      conn = std::get<ConnectionPtr>(std::move(connected));
    }
    conn->lowest().expires_at(deadline);
    http::response_parser<http::string_body> parser;
    parser.body_limit(request.bodyLimit);
    parser.header_limit(kHeaderLimit);
    conn->buffer.clear();
    std::pair<beast::error_code, bool> outcome;
    if (conn->secure) {
      outcome = co_await exchange(*conn->secure, conn->buffer, req, parser);
    } else {
      outcome = co_await exchange(*conn->plain, conn->buffer, req, parser);
    }
    auto [ec, headerSeen] = outcome;
    if (ec) {
      conn->close();
      // A pooled connection the peer already closed: try once more on a fresh one.
      if (reused && !headerSeen && isStaleKeepAlive(ec) && Clock::now() < deadline) continue;
      if (state->shuttingDown) co_return failure(HttpError::Cancelled, "client is shutting down");
      co_return failure(classify(ec, headerSeen),
                        request.method + " " + origin.url() + target + origin.via() + ": " + ec.message());
    }
    auto response = parser.release();
    if (forwarded && response.result_int() == 407) {
      // No origin answers 407: the proxy refused to forward.
      conn->close();
      co_return failure(HttpError::Unreachable,
                        "proxy " + origin.proxy->display() + " (" + origin.proxy->variable + ") refused " +
                            request.method + " " + origin.url() + target + ": HTTP 407" +
                            (origin.proxy->authorization.empty()
                                 ? " (the proxy wants credentials: put them in " + origin.proxy->variable +
                                       " as http://user:password@host:port)"
                                 : " (the proxy refused the credentials in " + origin.proxy->variable + ")"));
    }
    HttpResult result;
    result.response.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      result.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    result.response.body = std::move(response.body());
    if (response.keep_alive()) {
      state->giveBack(std::move(conn));
    } else {
      conn->close();
    }
    co_return result;
  }
  co_return failure(HttpError::Unreachable, "connection closed by " + origin.url() + origin.via());
}

}  // namespace aksnode
