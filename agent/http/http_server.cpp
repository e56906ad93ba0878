#include "agent/http/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "agent/config/validators.h"
#include "agent/logging.h"

namespace aksnode {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::any_io_executor ex, RequestHandler h, HttpServerLimits l)
      : executor(ex), acceptor(ex), handler(std::move(h)), limits(l) {}

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  RequestHandler handler;
  HttpServerLimits limits;
  std::size_t connections = 0;
  bool stopped = false;
  std::vector<std::weak_ptr<beast::tcp_stream>> streams;

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) co_return;
        log::warn("metrics server accept failed", {{"error", ec.message()}});
        continue;
      }
      if (connections >= limits.maxConnections) {
        beast::error_code ignored;
        socket.close(ignored);  // shed load rather than run out of descriptors
        continue;
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      std::erase_if(streams, [](const auto& w) { return w.expired(); });
      streams.push_back(stream);
      asio::co_spawn(executor, serve(stream), asio::detached);
    }
  }

  static http::response<http::string_body> reply(unsigned version, bool keepAlive, const ServerResponse& r) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "aks-node-agent");
    res.set(http::field::content_type, r.contentType);
    res.keep_alive(keepAlive);
    res.body() = r.body;
    res.prepare_payload();
    return res;
  }

  asio::awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto self = shared_from_this();
    ++connections;
    beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.headerLimit));
      parser.body_limit(limits.bodyLimit);
      stream->expires_after(limits.readTimeout);
      auto [ec, n] = co_await http::async_read(*stream, buffer, parser, kUseTuple);
      (void)n;
      if (ec == http::error::header_limit) {
        auto res = reply(11, false, {431, "text/plain; charset=utf-8", "request headers too large\n"});
        co_await http::async_write(*stream, res, kUseTuple);
        break;
      }
      if (ec == http::error::body_limit) {
        auto res = reply(11, false, {413, "text/plain; charset=utf-8", "request body too large\n"});
        co_await http::async_write(*stream, res, kUseTuple);
        break;
      }
      if (ec) break;  // timeout, client gone, malformed request: just close
      const auto& req = parser.get();
      std::string_view target = req.target();
      std::string_view path = target.substr(0, target.find('?'));
      ServerResponse out;
      try {
        out = handler(req.method_string(), path);
      } catch (const std::exception& e) {
        log::error("metrics server handler failed", {{"path", std::string(path)}, {"error", e.what()}});
        out = {500, "text/plain; charset=utf-8", "internal error\n"};
      }
      auto res = reply(req.version(), req.keep_alive(), out);
      if (req.method() == http::verb::head) res.body().clear();
      stream->expires_after(limits.readTimeout);
      auto [wec, written] = co_await http::async_write(*stream, res, kUseTuple);
      (void)written;
      if (wec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->socket().close(ignored);
    --connections;
  }
};

HttpServer::HttpServer(asio::any_io_executor executor, RequestHandler handler, HttpServerLimits limits)
    : state_(std::make_shared<State>(std::move(executor), std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::listen(const std::string& address) {
  // The configuration loader's parser: what --check-config accepts, the server can bind.
  const ParseResult<HostPort> parsed = parseHostPort(address);
  if (!parsed) return "metrics.address: " + parsed.error();
  beast::error_code ec;
  auto ip = asio::ip::make_address(parsed.value().host, ec);
  if (ec) return "metrics.address: \"" + parsed.value().host + "\" is not an IP address";
  tcp::endpoint endpoint(ip, parsed.value().port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + address + ": " + ec.message();
  asio::co_spawn(state_->executor, state_->acceptLoop(), asio::detached);
  return {};
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& w : state_->streams) {
    if (auto s = w.lock()) s->socket().close(ignored);
  }
}

}  // namespace aksnode
