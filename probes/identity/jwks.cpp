#include "probes/identity/jwks.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <optional>

#include "probes/identity/base64url.h"
#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace json = boost::json;

namespace {

Result<json::object> parseObject(std::string_view text, std::size_t limit) {
  using Object = Result<json::object>;
  if (text.size() > limit) return Object::failure("document larger than " + std::to_string(limit) + " bytes");
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return Object::failure("invalid JSON (" + ec.message() + ")");
  if (!v.is_object()) return Object::failure("not a JSON object");
  return Object::success(std::move(v.as_object()));
}

// Member as a string, or nullopt when absent or not a string.
std::optional<std::string_view> stringMember(const json::object& obj, const char* key) {
  const json::value* v = obj.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  const json::string& s = v->as_string();
  return std::string_view(s.data(), s.size());
}

}  // namespace

Result<KeySet> parseJwks(std::string_view text) {
  auto doc = parseObject(text, kMaxJwksBytes);
  if (!doc) return Result<KeySet>::failure(doc.error());
  const json::value* keys = doc->if_contains("keys");
  if (!keys || !keys->is_array()) return Result<KeySet>::failure("no \"keys\" array");
  KeySet result;
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
    auto key = rsaPublicKeyFromComponents(*modulus, *exponent);
    if (!key) {
      skip(key.error());
      continue;
    }
    // A duplicate kid is ambiguous; keep the first, as most verifiers do.
    if (!result.keys.emplace(std::string(*kid), std::move(key).value()).second) skip("duplicate kid");
  }
  return Result<KeySet>::success(std::move(result));
}

Result<OidcDiscovery> parseDiscovery(std::string_view text) {
  using Discovery = Result<OidcDiscovery>;
  auto doc = parseObject(text, kMaxDiscoveryBytes);
  if (!doc) return Discovery::failure(doc.error());
  const auto issuer = stringMember(*doc, "issuer");
  const auto jwksUri = stringMember(*doc, "jwks_uri");
  if (!issuer || issuer->empty()) return Discovery::failure("no \"issuer\" string");
  if (!jwksUri || jwksUri->empty()) return Discovery::failure("no \"jwks_uri\" string");
  return Discovery::success(OidcDiscovery{std::string(*issuer), std::string(*jwksUri)});
}

std::string discoveryUrl(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

}  // namespace aksnode::identity
