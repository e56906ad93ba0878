#include "agent/app/endpoints.h"

#include <boost/json/serialize.hpp>

#include "agent/core/secret_redaction.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace {
// /status carries text from outside (API server errors, IMDS descriptions, probe messages):
// every string in it goes through the redactor before it is served.
void redactStrings(boost::json::value& v) {
  if (auto* s = v.if_string()) {
    if (secrets::containsSecret(*s)) *s = secrets::redactSecrets(*s);
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) redactStrings(e);
  } else if (auto* o = v.if_object()) {
    for (auto& kv : *o) redactStrings(kv.value());
  }
}
}  // namespace

ServerResponse Endpoints::handle(std::string_view method, std::string_view path) const {
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", s_.metrics->serialize()};
  }
  if (path == "/healthz") {
    const auto age = s_.now() - s_.lastTick();
    const auto limit = 3 * std::max(s_.pollInterval, std::chrono::milliseconds(1000));
    if (s_.lastTick() != MonotonicTime{} && age < limit) return {200, "text/plain; charset=utf-8", "ok\n"};
    return {503, "text/plain; charset=utf-8", "event loop stalled\n"};
  }
  if (path == "/readyz") {
    auto reasons = s_.readiness();
    if (reasons.empty()) return {200, "text/plain; charset=utf-8", "ready\n"};
    std::string body = "not ready:\n";
    for (const auto& r : reasons) body += "- " + secrets::redactSecrets(r) + "\n";
    return {503, "text/plain; charset=utf-8", body};
  }
  if (path == "/status") {
    boost::json::value status = s_.status();
    redactStrings(status);
    return {200, "application/json", boost::json::serialize(status) + "\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace aksnode
