#pragma once
// HttpResult builders shared by the scripted HTTP clients of the unit tests (kube, IMDS).
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

inline HttpResult httpFailure(HttpError error, std::string message = "injected") {
  HttpResult r;
  r.error = error;
  r.errorMessage = std::move(message);
  return r;
}

}  // namespace aksnode::testing
