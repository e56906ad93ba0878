#pragma once
// HttpResult builders and request readers shared by the scripted HTTP clients of the unit tests
// (kube, IMDS, engine).
#include <string>
#include <utility>
#include <vector>

#include "agent/http/http_client.h"

namespace aksnode::testing {

inline HttpResult httpResponse(int status, std::string body = "{}",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResult r;
  r.response.status = status;
  r.response.body = std::move(body);
  r.response.headers = std::move(headers);
  return r;
}

// The value of a request header, "<absent>" when it was not sent.
inline std::string headerOf(const HttpRequest& request, const std::string& name) {
  for (const auto& [k, v] : request.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

inline HttpResult httpFailure(HttpError error, std::string message = "injected") {
  HttpResult r;
  r.error = error;
  r.errorMessage = std::move(message);
  return r;
}

}  // namespace aksnode::testing
