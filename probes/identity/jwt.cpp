#include "probes/identity/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <limits>

#include "probes/identity/base64url.h"

namespace aksnode::identity {

namespace json = boost::json;

const char* toString(JwtError error) {
  switch (error) {
    case JwtError::None: return "none";
    case JwtError::Empty: return "empty token";
    case JwtError::TooLarge: return "token larger than 64 KiB";
    case JwtError::NotThreeParts: return "not three dot-separated parts";
    case JwtError::BadBase64: return "a part is not valid base64url";
    case JwtError::HeaderNotJsonObject: return "header is not a JSON object";
    case JwtError::PayloadNotJsonObject: return "payload is not a JSON object";
    case JwtError::BadHeaderField: return "header field has the wrong type";
    case JwtError::BadClaimType: return "claim has the wrong type";
    case JwtError::EmptySignature: return "empty signature";
  }
  return "unknown";
}

namespace {

// Year 9999: anything later is not a date a kube-apiserver writes, and bounding it keeps
// every later computation (now - exp, lifetime * 0.8) far from overflow.
constexpr std::int64_t kMaxNumericDate = 253'402'300'799;

struct Failure {
  JwtError error;
  std::string detail;
};

std::optional<json::object> parseObject(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec,
                                  json::storage_ptr(), options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// Optional string member: absent is fine, present must be a string.
bool readString(const json::object& obj, std::string_view key, std::optional<std::string>& out) {
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (!v) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

bool readString(const json::object& obj, std::string_view key, std::string& out) {
  std::optional<std::string> value;
  if (!readString(obj, key, value)) return false;
  out = value.value_or("");
  return true;
}

// NumericDate (RFC 7519 section 2): a JSON number of seconds; strings, booleans and
// out-of-range values are rejected rather than coerced.
bool readNumericDate(const json::object& obj, std::string_view key,
                     std::optional<std::int64_t>& out) {
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (!v) return true;
  std::int64_t seconds = 0;
  if (v->is_int64()) {
    seconds = v->as_int64();
  } else if (v->is_uint64()) {
    if (v->as_uint64() > static_cast<std::uint64_t>(kMaxNumericDate)) return false;
    seconds = static_cast<std::int64_t>(v->as_uint64());
  } else if (v->is_double()) {
    const double d = v->as_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxNumericDate)) return false;
    seconds = static_cast<std::int64_t>(std::floor(d));
  } else {
    return false;
  }
  if (seconds < 0 || seconds > kMaxNumericDate) return false;
  out = seconds;
  return true;
}

// aud: a string or an array of strings (RFC 7519 section 4.1.3).
bool readAudience(const json::object& obj, std::vector<std::string>& out) {
  const json::value* v = obj.if_contains("aud");
  if (!v) return true;
  if (v->is_string()) {
    out.emplace_back(v->as_string());
    return true;
  }
  if (!v->is_array()) return false;
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.as_string());
  }
  return true;
}

// {"name": ..., "uid": ...} members of kubernetes.io.
bool readNamed(const json::object& obj, std::string_view key, std::string& name,
               std::string* uid) {
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (!v) return true;
  if (!v->is_object()) return false;
  if (!readString(v->as_object(), "name", name)) return false;
  return uid == nullptr || readString(v->as_object(), "uid", *uid);
}

std::optional<Failure> readKubernetes(const json::object& claims,
                                      std::optional<KubernetesClaims>& out) {
  const json::value* v = claims.if_contains("kubernetes.io");
  if (!v) return std::nullopt;
  if (!v->is_object()) return Failure{JwtError::BadClaimType, "claim kubernetes.io is not an object"};
  const json::object& k8s = v->as_object();
  KubernetesClaims result;
  if (!readString(k8s, "namespace", result.namespaceName) ||
      !readNamed(k8s, "pod", result.podName, &result.podUid) ||
      !readNamed(k8s, "serviceaccount", result.serviceAccountName, &result.serviceAccountUid) ||
      !readNamed(k8s, "node", result.nodeName, nullptr)) {
    return Failure{JwtError::BadClaimType, "claim kubernetes.io has a member of the wrong type"};
  }
  out = std::move(result);
  return std::nullopt;
}

std::optional<Failure> readClaims(const json::object& obj, JwtClaims& claims) {
  if (!readString(obj, "iss", claims.iss)) return Failure{JwtError::BadClaimType, "claim iss is not a string"};
  if (!readString(obj, "sub", claims.sub)) return Failure{JwtError::BadClaimType, "claim sub is not a string"};
  if (!readAudience(obj, claims.aud)) {
    return Failure{JwtError::BadClaimType, "claim aud is neither a string nor an array of strings"};
  }
  for (const char* key : {"exp", "nbf", "iat"}) {
    std::optional<std::int64_t>& slot =
        key[0] == 'e' ? claims.exp : (key[0] == 'n' ? claims.nbf : claims.iat);
    if (!readNumericDate(obj, key, slot)) {
      return Failure{JwtError::BadClaimType, std::string("claim ") + key + " is not a valid NumericDate"};
    }
  }
  return readKubernetes(obj, claims.kubernetes);
}

}  // namespace

bool isAlgNone(std::string_view alg) {
  if (alg.size() != 4) return false;
  for (std::size_t i = 0; i < 4; ++i) {
    const char c = static_cast<char>(alg[i] | 0x20);  // ASCII lower-case
    if (c != "none"[i]) return false;
  }
  return true;
}

JwtParseResult parseJwt(std::string_view text) {
  JwtParseResult result;
  auto fail = [&](JwtError e, std::string detail = {}) {
    result.error = e;
    result.detail = detail.empty() ? toString(e) : std::move(detail);
    result.jwt.reset();
    return result;
  };
  if (text.empty()) return fail(JwtError::Empty);
  if (text.size() > kMaxTokenBytes) return fail(JwtError::TooLarge);

  const std::size_t dot1 = text.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(JwtError::NotThreeParts);
  }
  const std::string_view headerPart = text.substr(0, dot1);
  const std::string_view payloadPart = text.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signaturePart = text.substr(dot2 + 1);
  if (headerPart.empty() || payloadPart.empty()) return fail(JwtError::NotThreeParts);

  auto header = base64UrlDecode(headerPart);
  if (!header) return fail(JwtError::BadBase64, "header is not valid base64url");
  auto payload = base64UrlDecode(payloadPart);
  if (!payload) return fail(JwtError::BadBase64, "payload is not valid base64url");
  auto signature = base64UrlDecode(signaturePart);
  if (!signature) return fail(JwtError::BadBase64, "signature is not valid base64url");

  auto headerObject = parseObject(*header);
  if (!headerObject) return fail(JwtError::HeaderNotJsonObject);
  auto payloadObject = parseObject(*payload);
  if (!payloadObject) return fail(JwtError::PayloadNotJsonObject);

  Jwt jwt;
  if (!readString(*headerObject, "alg", jwt.header.alg)) return fail(JwtError::BadHeaderField, "header alg is not a string");
  if (!readString(*headerObject, "kid", jwt.header.kid)) return fail(JwtError::BadHeaderField, "header kid is not a string");
  if (!readString(*headerObject, "typ", jwt.header.typ)) return fail(JwtError::BadHeaderField, "header typ is not a string");
  if (auto failure = readClaims(*payloadObject, jwt.claims)) return fail(failure->error, failure->detail);
  // An empty signature is legal JWS syntax only for alg "none" (an unsecured JWT), which
  // no Kubernetes issuer produces and Entra ID never accepts.
  if (signature->empty()) {
    return fail(JwtError::EmptySignature, isAlgNone(jwt.header.alg)
                                              ? "unsigned token (alg none, empty signature)"
                                              : "empty signature");
  }

  jwt.signingInput = std::string(text.substr(0, dot2));
  jwt.signature = std::move(*signature);
  result.jwt = std::move(jwt);
  return result;
}

}  // namespace aksnode::identity
