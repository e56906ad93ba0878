#include "agent/http/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <cstdint>
#include <list>

#include "agent/config/validators.h"
#include "agent/core/logging.h"

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

  // One open connection. `waitingSince` orders the connections waiting for a request (a
  // counter, not a clock: only the order matters); 0 while a request is being answered.
  struct Connection {
    std::weak_ptr<beast::tcp_stream> stream;
    std::uint64_t waitingSince = 0;
    bool shed = false;
  };

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  RequestHandler handler;
  HttpServerLimits limits;
  ShedObserver observer;
  bool stopped = false;
  std::list<Connection> connections;
  std::size_t shedPending = 0;  // closed by us, their coroutine not finished yet
  std::uint64_t waitCounter = 0;

  void report(ShedReason reason) const {
    if (observer) observer(reason);
  }

  // Room for one more: close the connection that has waited longest for its request.
  bool makeRoom() {
    if (connections.size() - shedPending < limits.maxConnections) return true;
    Connection* oldest = nullptr;
    for (auto& c : connections) {
      if (c.shed || c.waitingSince == 0) continue;
      if (oldest == nullptr || c.waitingSince < oldest->waitingSince) oldest = &c;
    }
    if (oldest == nullptr) return false;  // every connection is being answered
    oldest->shed = true;
    ++shedPending;
    if (auto s = oldest->stream.lock()) {
      beast::error_code ignored;
      s->socket().close(ignored);  // its pending read completes with operation_aborted
    }
    report(ShedReason::Idle);
    return true;
  }

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) co_return;
        log::warn("metrics server accept failed", {{"error", ec.message()}});
        continue;
      }
      if (!makeRoom()) {
        beast::error_code ignored;
        socket.close(ignored);  // every slot busy answering: shed the newcomer
        report(ShedReason::Refused);
        continue;
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      auto it = connections.insert(connections.end(), Connection{stream, 0, false});
      asio::co_spawn(executor, serve(stream, it), asio::detached);
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

  asio::awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream, std::list<Connection>::iterator conn) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.headerLimit));
      parser.body_limit(limits.bodyLimit);
      conn->waitingSince = ++waitCounter;
      stream->expires_after(limits.headerTimeout);
      auto [headerError, headerBytes] = co_await http::async_read_header(*stream, buffer, parser, kUseTuple);
      (void)headerBytes;
      beast::error_code ec = headerError;
      conn->waitingSince = 0;
      if (!ec && !parser.is_done()) {
        stream->expires_after(limits.readTimeout);
        auto [bodyError, bodyBytes] = co_await http::async_read(*stream, buffer, parser, kUseTuple);
        (void)bodyBytes;
        ec = bodyError;
      }
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
      if (ec) {
        // A request begun but not finished in time (slowloris); an idle keep-alive connection
        // that times out, or a client that left, is ordinary.
        if (ec == beast::error::timeout && (parser.got_some() || buffer.size() > 0) && !conn->shed) {
          report(ShedReason::HeaderTimeout);
        }
        break;
      }
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
    if (conn->shed) --shedPending;
    connections.erase(conn);
  }
};

HttpServer::HttpServer(asio::any_io_executor executor, RequestHandler handler, HttpServerLimits limits)
    : state_(std::make_shared<State>(std::move(executor), std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::listen(const std::string& address) {
  // The configuration loader's parser: what --check-config accepts, the server can bind.
  const Result<HostPort> parsed = parseHostPort(address);
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
  for (auto& c : state_->connections) {
    if (auto s = c.stream.lock()) s->socket().close(ignored);
  }
}

void HttpServer::onShed(ShedObserver observer) { state_->observer = std::move(observer); }

}  // namespace aksnode
