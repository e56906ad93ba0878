#include "agent/http/http_client.h"

#include <strings.h>

namespace aksnode {

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

const char* toString(HttpError error) {
  switch (error) {
    case HttpError::None: return "none";
    case HttpError::Timeout: return "timeout";
    case HttpError::Unreachable: return "unreachable";
    case HttpError::BodyTooLarge: return "body_too_large";
    case HttpError::Protocol: return "protocol";
    case HttpError::Tls: return "tls";
    case HttpError::BadUrl: return "bad_url";
    case HttpError::Cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace aksnode
