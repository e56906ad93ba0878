// TLS verification is always on (arch/SECURITY.md): the real client against a real TLS server
// on loopback, with certificates made here. A server the client cannot verify (unknown CA,
// another name, expired) gets no request at all, so no bearer token or client assertion ever
// reaches it; the same server with its certificate trusted is answered, which shows the refusals
// come from verification and not from a broken test server.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

#include "agent/http/http_client_impl.h"
#include "unit/http/run_request.h"
#include "unit/http/tls_test_server.h"

namespace aksnode {
namespace {

using testing::makeCertificate;
using testing::Pem;
using testing::TlsServer;

namespace asio = boost::asio;

// The refusal must come from certificate verification, not from some other handshake failure.
void expectVerificationFailure(const HttpResult& r) {
  EXPECT_EQ(r.error, HttpError::Tls) << r.errorMessage;
  EXPECT_NE(r.errorMessage.find("certificate verify failed"), std::string::npos) << r.errorMessage;
}

class TlsVerificationTest : public ::testing::Test {
 protected:
  HttpResult run(const std::string& url, TlsOptions tls) {
    HttpClientImpl client(io.get_executor(), std::move(tls));
    HttpRequest request{.url = url};
    request.headers.emplace_back("Authorization", "Bearer secret-token");
    request.timeout = std::chrono::seconds(10);
    HttpResult result = testing::runRequest(io, client, std::move(request));
    // Let the server side see the end of the connection.
    for (int i = 0; i < 20 && io.run_one_for(std::chrono::milliseconds(5)) > 0; ++i) {
    }
    return result;
  }
  static std::string url(const TlsServer& server, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(server.port()) + "/api/v1/nodes/n";
  }
  asio::io_context io;
};

TEST_F(TlsVerificationTest, TrustedCertificateForTheAddressIsAnswered) {
  const Pem pem = makeCertificate("IP:127.0.0.1");
  TlsServer server(io, pem);
  const HttpResult r = run(url(server), TlsOptions{.caPem = pem.certificate});
  ASSERT_TRUE(r.ok()) << r.errorMessage;
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "ok");
  EXPECT_EQ(server.requests, 1);
}

TEST_F(TlsVerificationTest, UnknownCaIsRefusedBeforeAnyRequest) {
  const Pem pem = makeCertificate("IP:127.0.0.1");
  TlsServer server(io, pem);
  // Default options: the system trust store, which does not hold this self-signed certificate.
  const HttpResult system = run(url(server), TlsOptions{});
  expectVerificationFailure(system);
  // A CA that is not the server's.
  const HttpResult other = run(url(server), TlsOptions{.caPem = makeCertificate("IP:127.0.0.1").certificate});
  expectVerificationFailure(other);
  EXPECT_EQ(server.requests, 0);
  EXPECT_EQ(server.handshakes, 0);
}

TEST_F(TlsVerificationTest, TrustedCertificateForAnotherNameIsRefused) {
  const Pem pem = makeCertificate("DNS:apiserver.example,IP:10.0.0.1");
  TlsServer server(io, pem);
  const HttpResult byIp = run(url(server), TlsOptions{.caPem = pem.certificate});
  expectVerificationFailure(byIp);
  const HttpResult byName = run(url(server, "localhost"), TlsOptions{.caPem = pem.certificate});
  expectVerificationFailure(byName);
  EXPECT_EQ(server.requests, 0);
}

TEST_F(TlsVerificationTest, ExpiredCertificateIsRefused) {
  const Pem pem = makeCertificate("IP:127.0.0.1", -3 * 86400, 1);  // valid two days ago, for one day
  TlsServer server(io, pem);
  const HttpResult r = run(url(server), TlsOptions{.caPem = pem.certificate});
  expectVerificationFailure(r);
  EXPECT_EQ(server.requests, 0);
}

}  // namespace
}  // namespace aksnode
