#pragma once
// Test support for the identity probe: RSA keys generated at run time (no key material in
// the repository), tokens signed like a kube-apiserver signs them, a scripted HttpClient,
// a way to run a coroutine to completion and a capture of the agent's log output.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "support/run_coroutine.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/http/http_client.h"
#include "agent/core/logging.h"
#include "agent/core/time_source.h"
#include "probes/identity/base64url.h"

namespace aksnode::identity::testing {

namespace json = boost::json;

inline constexpr const char* kIssuer = "https://eastus.oic.prod-aks.azure.com/00000000-1111-2222-3333-444444444444/55555555-6666-7777-8888-999999999999/";
inline constexpr const char* kSubject = "system:serviceaccount:aks-node-agent:aks-node-agent";
inline constexpr const char* kAudience = "api://AzureADTokenExchange";
inline constexpr const char* kClientId = "0a1b2c3d-0000-4000-8000-00000000c1d0";
inline constexpr const char* kTenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
inline constexpr const char* kAuthority = "https://login.microsoftonline.com/";

// A generated RSA key pair with its kid; keys are cached per (kid, bits) because 2048-bit
// generation costs tens of milliseconds.
struct TestKey {
  std::string kid;
  std::shared_ptr<EVP_PKEY> pkey;

  static const TestKey& get(const std::string& kid, unsigned bits = 2048) {
    static std::map<std::pair<std::string, unsigned>, TestKey> cache;
    auto it = cache.find({kid, bits});
    if (it == cache.end()) {
      EVP_PKEY* raw = EVP_RSA_gen(bits);
      if (raw == nullptr) throw std::runtime_error("EVP_RSA_gen failed");
      it = cache.emplace(std::make_pair(kid, bits), TestKey{kid, std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free)}).first;
    }
    return it->second;
  }

  std::string bignumParam(const char* name) const {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey.get(), name, &bn) != 1) throw std::runtime_error("get_bn_param");
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return bytes;
  }

  json::object jwk() const {
    return json::object{{"kty", "RSA"},
                        {"use", "sig"},
                        {"alg", "RS256"},
                        {"kid", kid},
                        {"n", base64UrlEncode(bignumParam(OSSL_PKEY_PARAM_RSA_N))},
                        {"e", base64UrlEncode(bignumParam(OSSL_PKEY_PARAM_RSA_E))}};
  }

  std::string sign(std::string_view data) const {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    std::size_t length = 0;
    std::string sig;
    if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, pkey.get()) == 1 &&
        EVP_DigestSign(md, nullptr, &length, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
      sig.resize(length);
      EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
      sig.resize(length);
    }
    EVP_MD_CTX_free(md);
    if (sig.empty()) throw std::runtime_error("EVP_DigestSign failed");
    return sig;
  }
};

inline std::string jwksJson(const std::vector<const TestKey*>& keys) {
  json::array arr;
  for (const TestKey* k : keys) arr.push_back(k->jwk());
  return json::serialize(json::object{{"keys", std::move(arr)}});
}

inline std::string discoveryJson(const std::string& issuer, const std::string& jwksUri) {
  return json::serialize(json::object{{"issuer", issuer},
                                      {"jwks_uri", jwksUri},
                                      {"response_types_supported", json::array{"id_token"}},
                                      {"subject_types_supported", json::array{"public"}},
                                      {"id_token_signing_alg_values_supported", json::array{"RS256"}}});
}

inline std::int64_t unixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Claims like a kube-apiserver writes them for a projected token with a 1 h lifetime.
inline json::object standardClaims(std::int64_t iat, std::int64_t lifetime = 3600) {
  return json::object{
      {"aud", json::array{kAudience}},
      {"exp", iat + lifetime},
      {"iat", iat},
      {"nbf", iat},
      {"iss", kIssuer},
      {"sub", kSubject},
      {"kubernetes.io",
       json::object{{"namespace", "aks-node-agent"},
                    {"node", json::object{{"name", "aks-spot-12345678-vmss000001"}, {"uid", "node-uid"}}},
                    {"pod", json::object{{"name", "aks-node-agent-x7k2p"}, {"uid", "pod-uid"}}},
                    {"serviceaccount", json::object{{"name", "aks-node-agent"}, {"uid", "sa-uid"}}}}},
  };
}

inline std::string encodeSegments(const json::object& header, const json::object& claims) {
  return base64UrlEncode(json::serialize(header)) + "." + base64UrlEncode(json::serialize(claims));
}

inline std::string signToken(const TestKey& key, const json::object& claims,
                             json::object header = json::object{}) {
  if (header.empty()) header = json::object{{"alg", "RS256"}, {"kid", key.kid}};
  const std::string input = encodeSegments(header, claims);
  return input + "." + base64UrlEncode(key.sign(input));
}

// An HttpClient that answers from a script: per URL, a queue of results (the last one
// repeats), or 404. Records every request.
class ScriptedHttpClient final : public HttpClient {
 public:
  void on(const std::string& url, int status, std::string body) {
    HttpResult r;
    r.response.status = status;
    r.response.body = std::move(body);
    script_[url].push_back(std::move(r));
  }
  void failWith(const std::string& url, HttpError error, std::string message = {}) {
    HttpResult r;
    r.error = error;
    r.errorMessage = std::move(message);
    script_[url].push_back(std::move(r));
  }
  void clear(const std::string& url) { script_.erase(url); }

  boost::asio::awaitable<HttpResult> send(HttpRequest request) override {
    requests.push_back(request);
    auto it = script_.find(request.url);
    if (it == script_.end() || it->second.empty()) {
      HttpResult notFound;
      notFound.response.status = 404;
      notFound.response.body = R"({"error":"not found"})";
      co_return notFound;
    }
    HttpResult r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    co_return r;
  }
  void shutdown() override {}

  int count(const std::string& url) const {
    int n = 0;
    for (const auto& r : requests) n += r.url == url ? 1 : 0;
    return n;
  }

  std::vector<HttpRequest> requests;

 private:
  std::map<std::string, std::deque<HttpResult>> script_;
};

using aksnode::testing::runSync;

// Everything the agent logs (every level) while alive.
class LogCapture {
 public:
  LogCapture() {
    log::init(log::Level::Trace, log::Format::Json);
    logger_ = spdlog::get("aks-node-agent");
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    logger_->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = logger_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    log::init(log::Level::Info, log::Format::Json);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace aksnode::identity::testing
