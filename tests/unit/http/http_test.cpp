// The Beast client and server against each other on real loopback sockets (port 0).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "agent/http/http_client_impl.h"
#include "agent/http/http_server.h"
#include "unit/http/run_request.h"

namespace aksnode {
namespace {

namespace asio = boost::asio;

class HttpTest : public ::testing::Test {
 protected:
  HttpResult run(HttpRequest req) {
    HttpClientImpl client(io.get_executor());
    return testing::runRequest(io, client, std::move(req));
  }
  std::string url(unsigned short port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  asio::io_context io;
};

ServerResponse route(std::string_view method, std::string_view path) {
  if (path == "/healthz") return {200, "text/plain", "ok\n"};
  if (path == "/readyz") return {503, "text/plain", "not ready: no IMDS poll yet\n"};
  if (path == "/big") return {200, "text/plain", std::string(2 << 20, 'x')};
  if (path == "/method") return {200, "text/plain", std::string(method)};
  return {404, "text/plain", "not found\n"};
}

TEST_F(HttpTest, ServesKnownPathsAnd404) {
  HttpServer server(io.get_executor(), route);
  ASSERT_EQ(server.listen("127.0.0.1:0"), "");
  ASSERT_NE(server.port(), 0);
  auto ok = run({.url = url(server.port(), "/healthz")});
  ASSERT_TRUE(ok.ok()) << ok.errorMessage;
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.response.body, "ok\n");
  EXPECT_EQ(run({.url = url(server.port(), "/readyz?verbose=1")}).response.status, 503);
  EXPECT_EQ(run({.url = url(server.port(), "/nope")}).response.status, 404);
  auto post = run({.method = "POST", .url = url(server.port(), "/method"), .body = "ignored"});
  EXPECT_EQ(post.response.body, "POST");
}

TEST_F(HttpTest, RefusesOversizedHeaders) {
  HttpServer server(io.get_executor(), route);
  ASSERT_EQ(server.listen("127.0.0.1:0"), "");
  HttpRequest req{.url = url(server.port(), "/healthz")};
  req.headers.emplace_back("X-Padding", std::string(9000, 'a'));
  auto r = run(req);
  ASSERT_TRUE(r.ok()) << r.errorMessage;
  EXPECT_EQ(r.response.status, 431);
}

TEST_F(HttpTest, ClientRefusesBodiesOverTheLimit) {
  HttpServer server(io.get_executor(), route);
  ASSERT_EQ(server.listen("127.0.0.1:0"), "");
  auto r = run({.url = url(server.port(), "/big")});
  EXPECT_EQ(r.error, HttpError::BodyTooLarge);
  HttpRequest bigger{.url = url(server.port(), "/big")};
  bigger.bodyLimit = 4 << 20;
  EXPECT_TRUE(run(bigger).ok());
}

TEST_F(HttpTest, ClientTimesOutOnAHungPeer) {
  // Accepts and reads, never answers: the deadline must fire.
  asio::ip::tcp::acceptor hung(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket held(io);
  hung.async_accept(held, [](boost::system::error_code) {});
  HttpRequest req{.url = url(hung.local_endpoint().port(), "/metadata")};
  req.timeout = std::chrono::milliseconds(200);
  auto r = run(req);
  EXPECT_EQ(r.error, HttpError::Timeout) << r.errorMessage;
}

TEST_F(HttpTest, ClientReportsUnreachable) {
  unsigned short port;
  {
    asio::ip::tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  auto r = run({.url = url(port, "/")});
  EXPECT_EQ(r.error, HttpError::Unreachable) << r.errorMessage;
}

TEST_F(HttpTest, ClientReportsTruncatedBodyAsProtocolError) {
  asio::ip::tcp::acceptor peer(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket conn(io);
  char scratch[4096];
  peer.async_accept(conn, [&](boost::system::error_code ec) {
    if (ec) return;
    conn.async_read_some(asio::buffer(scratch), [&](boost::system::error_code, std::size_t) {
      static const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Docu";
      asio::async_write(conn, asio::buffer(partial), [&](boost::system::error_code, std::size_t) { conn.close(); });
    });
  });
  auto r = run({.url = url(peer.local_endpoint().port(), "/")});
  EXPECT_EQ(r.error, HttpError::Protocol) << r.errorMessage;
}

TEST_F(HttpTest, RejectsBadUrls) {
  EXPECT_EQ(run({.url = "ftp://example/x"}).error, HttpError::BadUrl);
  EXPECT_EQ(run({.url = "not a url"}).error, HttpError::BadUrl);
}

TEST(HttpServerListen, UsesTheConfigParserAndRefusesNames) {
  boost::asio::io_context io;
  HttpServer server(io.get_executor(), [](std::string_view, std::string_view) { return ServerResponse{}; });
  const std::string error = server.listen("localhost:0");
  EXPECT_TRUE(error.starts_with("metrics.address: expected host:port with an IP address")) << error;
  EXPECT_EQ(server.listen("127.0.0.1:0"), "");
  EXPECT_NE(server.port(), 0);
  server.stop();
}

}  // namespace
}  // namespace aksnode
