// HttpClientImpl through a forward proxy (agent/http/http_client_impl.cpp): CONNECT tunnels
// with TLS verified against the target end to end, absolute-URI requests for plain http,
// pooling per proxy and origin, and proxies that refuse, hang, send an endless CONNECT answer
// or close mid-handshake: each a clean error within the request's deadline, naming the proxy.
// The proxy here is scripted on the test's io_context; it maps every target to 127.0.0.1, so
// target names such as target.test are never resolved by the client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/http/http_client_impl.h"
#include "agent/http/http_server.h"
#include "agent/core/secret_redaction.h"
#include "unit/http/run_request.h"
#include "unit/http/tls_test_server.h"

namespace aksnode {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

class ScriptedProxy {
 public:
  enum class Mode { Forward, Refuse407, Hang, HugeHeader, CloseAfter200 };

  ScriptedProxy(asio::io_context& io, Mode mode)
      : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), mode_(mode) {
    asio::co_spawn(io_, acceptLoop(), asio::detached);
  }
  ~ScriptedProxy() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : held_) s->close(ec);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& userinfo = "") const {
    return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port());
  }

  std::vector<std::string> heads;  // every request head as received
  int connections = 0;
  std::size_t hugeBytesSent = 0;

 private:
  using Socket = std::shared_ptr<tcp::socket>;

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      ++connections;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      held_.push_back(s);
      asio::co_spawn(io_, serve(s), asio::detached);
    }
  }

  static asio::awaitable<bool> write(const Socket& s, const std::string& text) {
    auto [ec, n] = co_await asio::async_write(*s, asio::buffer(text), kTuple);
    (void)n;
    co_return !ec;
  }

  asio::awaitable<void> serve(Socket client) {
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(*client, asio::dynamic_buffer(buffer), "\r\n\r\n", kTuple);
      if (ec) co_return;
      std::string head = buffer.substr(0, n);
      buffer.erase(0, n);
      heads.push_back(head);
      switch (mode_) {
        case Mode::Hang:
          co_return;  // the socket stays open in held_
        case Mode::Refuse407:
          co_await write(client,
                         "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
                         "Content-Length: 0\r\n\r\n");
          co_return;
        case Mode::HugeHeader: {
          if (!co_await write(client, "HTTP/1.1 200 Connection established\r\n")) co_return;
          const std::string line = "X-Padding: " + std::string(1000, 'a') + "\r\n";
          while (hugeBytesSent < (std::size_t{64} << 20)) {
            if (!co_await write(client, line)) co_return;  // the client hung up: good
            hugeBytesSent += line.size();
          }
          co_return;
        }
        case Mode::CloseAfter200: {
          co_await write(client, "HTTP/1.1 200 Connection established\r\n\r\n");
          boost::system::error_code ignored;
          client->shutdown(tcp::socket::shutdown_both, ignored);
          client->close(ignored);
          co_return;
        }
        case Mode::Forward:
          break;
      }
      if (head.starts_with("CONNECT ")) {
        // "CONNECT host:port HTTP/1.1": squid's answer, then bytes both ways.
        const std::string target = head.substr(8, head.find(' ', 8) - 8);
        const auto port = static_cast<unsigned short>(std::stoi(target.substr(target.rfind(':') + 1)));
        auto upstream = std::make_shared<tcp::socket>(io_);
        held_.push_back(upstream);
        auto [cec] = co_await upstream->async_connect({asio::ip::make_address("127.0.0.1"), port}, kTuple);
        if (cec) {
          co_await write(client, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
          co_return;
        }
        if (!co_await write(client, "HTTP/1.1 200 Connection established\r\n\r\n")) co_return;
        asio::co_spawn(io_, pump(client, upstream), asio::detached);
        asio::co_spawn(io_, pump(upstream, client), asio::detached);
        co_return;
      }
      // An absolute-URI request: answered here with the head it received (keep-alive).
      if (!co_await write(client, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                      std::to_string(head.size()) + "\r\n\r\n" + head)) {
        co_return;
      }
    }
  }

  static asio::awaitable<void> pump(Socket from, Socket to) {
    std::array<char, 16384> data{};
    for (;;) {
      auto [ec, n] = co_await from->async_read_some(asio::buffer(data), kTuple);
      if (ec) {
        boost::system::error_code ignored;
        to->shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
      auto [wec, w] = co_await asio::async_write(*to, asio::buffer(data.data(), n), kTuple);
      (void)w;
      if (wec) co_return;
    }
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Mode mode_;
  std::vector<Socket> held_;
};

class ProxyClientTest : public ::testing::Test {
 protected:
  HttpResult run(HttpClientImpl& client, const std::string& url,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    HttpRequest request{.url = url};
    request.headers.emplace_back("Authorization", "Bearer target-only-token");
    request.timeout = timeout;
    return testing::runRequest(io, client, std::move(request));
  }
  static ProxyConfig via(const ScriptedProxy& proxy, const std::string& userinfo = "",
                         const std::string& noProxy = "") {
    return ProxyConfig::fromValues(proxy.url(userinfo), proxy.url(userinfo), noProxy);
  }
  void TearDown() override { secrets::forgetAllForTests(); }
  asio::io_context io;
};

TEST_F(ProxyClientTest, HttpsGoesThroughConnectWithTlsVerifiedAgainstTheTarget) {
  const testing::Pem pem = testing::makeCertificate("DNS:target.test");
  testing::TlsServer server(io, pem);
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Forward);
  HttpClientImpl client(io.get_executor(), TlsOptions{.caPem = pem.certificate}, via(proxy, "agent:proxy-pass-123"));
  const std::string hostPort = "target.test:" + std::to_string(server.port());
  const HttpResult r = run(client, "https://" + hostPort + "/api");
  ASSERT_TRUE(r.ok()) << r.errorMessage;
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "ok");
  EXPECT_EQ(server.requests, 1);
  EXPECT_EQ(server.serverName, "target.test");  // SNI names the target, not the proxy
  ASSERT_EQ(proxy.heads.size(), 1u);
  const std::string& head = proxy.heads[0];
  EXPECT_THAT(head, StartsWith("CONNECT " + hostPort + " HTTP/1.1\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nHost: " + hostPort + "\r\n"));
  // base64("agent:proxy-pass-123"); the target's own Authorization stays inside the tunnel.
  EXPECT_THAT(head, HasSubstr("\r\nProxy-Authorization: Basic YWdlbnQ6cHJveHktcGFzcy0xMjM=\r\n"));
  EXPECT_THAT(head, Not(HasSubstr("target-only-token")));
}

TEST_F(ProxyClientTest, ATunnelToTheWrongCertificateFailsVerification) {
  // The proxy reaches a server the CA vouches for, but under another name: a MITM with a
  // trusted-looking certificate is still refused, and the request never leaves the client.
  const testing::Pem pem = testing::makeCertificate("DNS:other.test");
  testing::TlsServer server(io, pem);
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Forward);
  HttpClientImpl client(io.get_executor(), TlsOptions{.caPem = pem.certificate}, via(proxy));
  const HttpResult r = run(client, "https://target.test:" + std::to_string(server.port()) + "/api");
  EXPECT_EQ(r.error, HttpError::Tls) << r.errorMessage;
  EXPECT_THAT(r.errorMessage, HasSubstr("certificate verify failed"));
  EXPECT_THAT(r.errorMessage, HasSubstr("via proxy " + proxy.url()));
  EXPECT_EQ(server.requests, 0);
  ASSERT_EQ(proxy.heads.size(), 1u);
}

TEST_F(ProxyClientTest, PlainHttpSendsTheAbsoluteUriAndPoolsPerProxyAndOrigin) {
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Forward);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy, "agent:proxy-pass-123"));
  const HttpResult a = run(client, "http://origin.test:8080/hooks/a?x=1");
  ASSERT_TRUE(a.ok()) << a.errorMessage;
  EXPECT_THAT(a.response.body, StartsWith("GET http://origin.test:8080/hooks/a?x=1 HTTP/1.1\r\n"));
  EXPECT_THAT(a.response.body, HasSubstr("\r\nHost: origin.test:8080\r\n"));
  EXPECT_THAT(a.response.body, HasSubstr("\r\nProxy-Authorization: Basic YWdlbnQ6cHJveHktcGFzcy0xMjM=\r\n"));
  const HttpResult b = run(client, "http://origin.test:8080/hooks/b");
  ASSERT_TRUE(b.ok()) << b.errorMessage;
  EXPECT_THAT(b.response.body, StartsWith("GET http://origin.test:8080/hooks/b HTTP/1.1\r\n"));
  EXPECT_EQ(proxy.connections, 1);  // kept alive
  const HttpResult c = run(client, "http://other.test/");
  ASSERT_TRUE(c.ok()) << c.errorMessage;
  EXPECT_THAT(c.response.body, StartsWith("GET http://other.test/ HTTP/1.1\r\n"));
  EXPECT_EQ(proxy.connections, 2);  // another origin: another pooled connection
}

TEST_F(ProxyClientTest, NoProxyAndLoopbackGoDirect) {
  HttpServer server(io.get_executor(), [](std::string_view, std::string_view) {
    return ServerResponse{200, "text/plain", "direct\n"};
  });
  ASSERT_EQ(server.listen("127.0.0.1:0"), "");
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Forward);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy, "", "localhost"));
  const std::string port = std::to_string(server.port());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const HttpResult r = run(client, "http://" + host + ":" + port + "/x");
    ASSERT_TRUE(r.ok()) << r.errorMessage;
    EXPECT_EQ(r.response.body, "direct\n");
  }
  EXPECT_TRUE(proxy.heads.empty());
  // The same client still proxies other hosts.
  const HttpResult proxied = run(client, "http://example.test/");
  ASSERT_TRUE(proxied.ok()) << proxied.errorMessage;
  EXPECT_EQ(proxy.heads.size(), 1u);
}

TEST_F(ProxyClientTest, ProxyAuthenticationRequiredIsAClearError) {
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Refuse407);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy, "agent:wrong-password-42"));
  const HttpResult https = run(client, "https://login.example.test/token");
  EXPECT_EQ(https.error, HttpError::Unreachable) << https.errorMessage;
  EXPECT_THAT(https.errorMessage, HasSubstr("proxy " + proxy.url() + " (HTTPS_PROXY) refused CONNECT "
                                            "login.example.test:443: HTTP 407"));
  EXPECT_THAT(https.errorMessage, HasSubstr("refused the credentials in HTTPS_PROXY"));
  const HttpResult http = run(client, "http://hooks.example.test/x");
  EXPECT_EQ(http.error, HttpError::Unreachable) << http.errorMessage;
  EXPECT_THAT(http.errorMessage, HasSubstr("HTTP 407"));
  for (const auto* message : {&https.errorMessage, &http.errorMessage}) {
    EXPECT_THAT(*message, Not(HasSubstr("wrong-password-42")));
    EXPECT_THAT(*message, Not(HasSubstr("agent:")));
  }
  HttpClientImpl anonymous(io.get_executor(), TlsOptions{}, via(proxy));
  const HttpResult none = run(anonymous, "https://login.example.test/token");
  EXPECT_THAT(none.errorMessage, HasSubstr("the proxy wants credentials: put them in HTTPS_PROXY"));
}

TEST_F(ProxyClientTest, AnEndlessConnectAnswerStopsAtTheHeaderLimit) {
  ScriptedProxy proxy(io, ScriptedProxy::Mode::HugeHeader);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy));
  const auto t0 = std::chrono::steady_clock::now();
  const HttpResult r = run(client, "https://login.example.test/token", std::chrono::seconds(10));
  EXPECT_EQ(r.error, HttpError::Unreachable) << r.errorMessage;
  EXPECT_THAT(r.errorMessage, HasSubstr("header is over 16 KiB"));
  EXPECT_THAT(r.errorMessage, HasSubstr(proxy.url()));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_LT(proxy.hugeBytesSent, std::size_t{32} << 20);  // the client stopped reading long before 64 MiB
}

TEST_F(ProxyClientTest, AHangingProxyTimesOutAtTheDeadline) {
  ScriptedProxy proxy(io, ScriptedProxy::Mode::Hang);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy));
  for (const std::string url : {"https://login.example.test/token", "http://hooks.example.test/x"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const HttpResult r = run(client, url, std::chrono::milliseconds(300));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.error, HttpError::Timeout) << url << ": " << r.errorMessage;
    EXPECT_THAT(r.errorMessage, HasSubstr(proxy.url())) << url;
    EXPECT_GE(took, std::chrono::milliseconds(250)) << url;
    EXPECT_LT(took, std::chrono::seconds(3)) << url;
  }
  EXPECT_EQ(proxy.heads.size(), 2u);
}

TEST_F(ProxyClientTest, AProxyThatClosesMidHandshakeIsACleanError) {
  ScriptedProxy proxy(io, ScriptedProxy::Mode::CloseAfter200);
  HttpClientImpl client(io.get_executor(), TlsOptions{}, via(proxy));
  const HttpResult r = run(client, "https://login.example.test/token", std::chrono::seconds(5));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.error == HttpError::Tls || r.error == HttpError::Unreachable) << r.errorMessage;
  EXPECT_THAT(r.errorMessage, HasSubstr("TLS handshake with login.example.test via proxy " + proxy.url()));
}

TEST_F(ProxyClientTest, AnUnusableProxyVariableFailsTheRequestWithoutConnecting) {
  HttpClientImpl client(io.get_executor(), TlsOptions{},
                        ProxyConfig::fromValues("https://agent:secret-pass-77@proxy.example.test:443", "", ""));
  const HttpResult r = run(client, "https://login.example.test/token");
  EXPECT_EQ(r.error, HttpError::Unreachable);
  EXPECT_THAT(r.errorMessage, HasSubstr("HTTPS_PROXY names an https:// proxy"));
  EXPECT_THAT(r.errorMessage, Not(HasSubstr("secret-pass-77")));
}

}  // namespace
}  // namespace aksnode
