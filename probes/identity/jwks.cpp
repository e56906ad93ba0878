#include "probes/identity/jwks.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include "probes/identity/base64url.h"
#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace json = boost::json;

namespace {

std::optional<json::object> parseObject(std::string_view text, std::size_t limit,
                                        std::string& error) {
  if (text.size() > limit) {
    error = "document larger than " + std::to_string(limit) + " bytes";
    return std::nullopt;
  }
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    error = "invalid JSON (" + ec.message() + ")";
    return std::nullopt;
  }
  if (!v.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// Member as a string, or nullopt when absent or not a string.
std::optional<std::string_view> stringMember(const json::object& obj, const char* key) {
  const json::value* v = obj.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  const json::string& s = v->as_string();
  return std::string_view(s.data(), s.size());
}

}  // namespace

JwksParseResult parseJwks(std::string_view text) {
  JwksParseResult result;
  auto doc = parseObject(text, kMaxJwksBytes, result.error);
  if (!doc) return result;
  const json::value* keys = doc->if_contains("keys");
  if (!keys || !keys->is_array()) {
    result.error = "no \"keys\" array";
    return result;
  }
  std::size_t index = 0;
  for (const json::value& entry : keys->as_array()) {
    if (index++ >= kMaxJwksKeys) {
      result.skipped.push_back("keys beyond the first " + std::to_string(kMaxJwksKeys));
      break;
    }
    if (!entry.is_object()) {
      result.skipped.push_back("key " + std::to_string(index - 1) + ": not an object");
      continue;
    }
    const json::object& jwk = entry.as_object();
    const auto kid = stringMember(jwk, "kid");
    const std::string name = kid ? "kid \"" + printable(*kid, 128) + "\"" : "key " + std::to_string(index - 1);
    auto skip = [&](const std::string& why) { result.skipped.push_back(name + ": " + why); };
    if (!kid || kid->empty()) {
      skip("no kid");
      continue;
    }
    const auto kty = stringMember(jwk, "kty");
    if (!kty || *kty != "RSA") {
      skip("kty is not RSA");
      continue;
    }
    if (jwk.contains("use") && stringMember(jwk, "use") != std::optional<std::string_view>("sig")) {
      skip("use is not sig");
      continue;
    }
    if (jwk.contains("alg") && stringMember(jwk, "alg") != std::optional<std::string_view>("RS256")) {
      skip("alg is not RS256");
      continue;
    }
    const auto n = stringMember(jwk, "n");
    const auto e = stringMember(jwk, "e");
    if (!n || !e) {
      skip("no n or e");
      continue;
    }
    const auto modulus = base64UrlDecode(*n);
    const auto exponent = base64UrlDecode(*e);
    if (!modulus || !exponent) {
      skip("n or e is not base64url");
      continue;
    }
    std::string error;
    PublicKey key = rsaPublicKeyFromComponents(*modulus, *exponent, error);
    if (!key) {
      skip(error);
      continue;
    }
    // A duplicate kid is ambiguous; keep the first, as most verifiers do.
    if (!result.keys.emplace(std::string(*kid), std::move(key)).second) skip("duplicate kid");
  }
  return result;
}

std::optional<OidcDiscovery> parseDiscovery(std::string_view text, std::string& error) {
  auto doc = parseObject(text, kMaxDiscoveryBytes, error);
  if (!doc) return std::nullopt;
  const auto issuer = stringMember(*doc, "issuer");
  const auto jwksUri = stringMember(*doc, "jwks_uri");
  if (!issuer || issuer->empty()) {
    error = "no \"issuer\" string";
    return std::nullopt;
  }
  if (!jwksUri || jwksUri->empty()) {
    error = "no \"jwks_uri\" string";
    return std::nullopt;
  }
  return OidcDiscovery{std::string(*issuer), std::string(*jwksUri)};
}

std::string discoveryUrl(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

}  // namespace aksnode::identity
