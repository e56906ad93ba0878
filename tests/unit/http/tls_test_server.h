#pragma once
// TLS peers for the HTTP client's tests: a self-signed certificate made with OpenSSL and a small
// HTTPS server on 127.0.0.1 (tls_verification_test.cpp, proxy_client_test.cpp).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace aksnode::testing {

namespace tls_test {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
}  // namespace tls_test
using namespace tls_test;  // NOLINT: test helper

struct Pem {
  std::string certificate;
  std::string key;
};

inline std::string drain(BIO* bio) {
  std::string out(static_cast<std::size_t>(BIO_ctrl_pending(bio)), '\0');
  const int n = BIO_read(bio, out.data(), static_cast<int>(out.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

// A self-signed certificate (it is its own CA) for `subjectAltName`, e.g. "IP:127.0.0.1",
// valid from now + validFrom for `days` days (a negative offset and few days: expired).
inline Pem makeCertificate(const std::string& subjectAltName, long validFromSeconds = -60, long days = 1) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) throw std::runtime_error("OpenSSL: cannot make a key or certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), validFromSeconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validFromSeconds + days * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("aksnode-test"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, subjectAltName},
                                   {NID_basic_constraints, "critical,CA:TRUE"}}) {
    std::string text = value;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, text.data());
    if (ext == nullptr) throw std::runtime_error("OpenSSL: bad extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("OpenSSL: cannot sign");

  Pem pem;
  std::unique_ptr<BIO, decltype(&BIO_free)> certBio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> keyBio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(certBio.get(), cert.get());
  PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  pem.certificate = drain(certBio.get());
  pem.key = drain(keyBio.get());
  return pem;
}

// One-connection-at-a-time HTTPS server on 127.0.0.1: handshake, read the request head,
// answer 200 "ok". Counts the handshakes that succeeded and the requests it read, and keeps the
// SNI name of the last handshake.
class TlsServer {
 public:
  TlsServer(asio::io_context& io, const Pem& pem)
      : context_(ssl::context::tls_server), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    context_.use_certificate_chain(asio::buffer(pem.certificate));
    context_.use_private_key(asio::buffer(pem.key), ssl::context::pem);
    accept();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int handshakes = 0;
  int requests = 0;
  std::string serverName;  // SNI of the last successful handshake ("" = none sent)

 private:
  struct Session {
    explicit Session(tcp::socket s, ssl::context& c) : stream(std::move(s), c) {}
    ssl::stream<tcp::socket> stream;
    asio::streambuf buffer;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(socket), context_);
      session->stream.async_handshake(ssl::stream_base::server, [this, session](boost::system::error_code hec) {
        if (hec) return;  // the client refused us (or we it): nothing was sent
        ++handshakes;
        const char* sni = SSL_get_servername(session->stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        serverName = sni ? sni : "";
        asio::async_read_until(session->stream, session->buffer, "\r\n\r\n",
                               [this, session](boost::system::error_code rec, std::size_t) {
                                 if (rec) return;
                                 ++requests;
                                 static const std::string answer =
                                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                                 asio::async_write(session->stream, asio::buffer(answer),
                                                   [session](boost::system::error_code, std::size_t) {});
                               });
      });
      accept();
    });
  }

  ssl::context context_;
  tcp::acceptor acceptor_;
};

}  // namespace aksnode::testing
