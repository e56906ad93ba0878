// libFuzzer target: untrusted bytes as what the API server sends the agent (arch/FAULTS.md):
// a Node, a pod list page, a Pod, a metav1.Status error body, an eviction answer.
// Beyond "no crash, no hang, no sanitizer report" it checks properties the agent relies on:
//  * text taken from the API server is bounded and free of control characters (it goes into
//    logs, Events and /status);
//  * a pod the drain accepts has a namespace and a name; the capped grace period is within
//    [0, cap]; kubectl's filters never evict a DaemonSet, mirror or finished pod;
//  * a list page keeps only objects;
//  * every eviction answer maps to exactly the documented kind for its status code.
// Seeds: tests/fuzz/corpus/kube/.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/kube/drainer.h"
#include "agent/kube/kube_client_impl.h"
#include "agent/kube/kube_json.h"
#include "agent/kube/pod_info.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void checkText(const std::string& text, std::size_t limit) {
  check(text.size() <= limit + 3);
  for (char c : text) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

void checkPod(const boost::json::value& value) {
  const auto pod = aksnode::parsePod(value);
  if (!pod) return;
  check(!pod->ns.empty() && !pod->name.empty());
  aksnode::DrainOptions options;
  options.deleteEmptyDirData = (pod->name.size() % 2) == 0;
  options.ownPodName = "agent";
  const auto decision = aksnode::classifyPod(*pod, options);
  if (decision.disposition == aksnode::PodDisposition::Evict) {
    check(pod->controllerKind != "DaemonSet");
    check(!pod->mirror);
    check(pod->phase != "Succeeded" && pod->phase != "Failed");
    check(!(pod->emptyDir && !options.deleteEmptyDirData));
  }
  const auto grace = aksnode::evictionGracePeriod(*pod, 20);
  check(grace.has_value() && *grace >= 0 && *grace <= 20);
  check(!aksnode::evictionGracePeriod(*pod, std::nullopt).has_value());
}

void checkEviction(int status, std::string_view body) {
  aksnode::HttpResult http;
  http.response.status = status;
  http.response.body = std::string(body);
  const auto result = aksnode::evictionResultFrom(http, aksnode::SystemTime{std::chrono::seconds{1'800'000'000}});
  using Kind = aksnode::EvictionResult::Kind;
  check(result.status == status);
  if (status >= 200 && status < 300) check(result.kind == Kind::Evicted);
  if (status == 404) check(result.kind == Kind::NotFound);
  if (result.kind == Kind::BlockedByPdb) check(status == 429);
  if (result.kind == Kind::MultiplePdbs) check(status == 500);
  if (!(status >= 200 && status < 300)) check(!result.message.empty());
  checkText(result.message, 1024);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto body = aksnode::parseJsonBody(text)) {
    if (auto status = aksnode::parseKubeStatus(*body)) {
      checkText(status->reason, 128);
      checkText(status->message, 1024);
      check(status->code >= 0 && status->code < 1000);
      check(status->causes.size() <= 16);
      for (const auto& cause : status->causes) {
        checkText(cause.reason, 128);
        checkText(cause.message, 1024);
        checkText(cause.field, 256);
      }
    }
    checkPod(*body);
    if (auto page = aksnode::parseListPage(*body)) {
      for (const auto& item : page->items) {
        check(item.is_object());
        checkPod(item);
      }
    }
    checkText(aksnode::boundedText(aksnode::jsonString(*body, {"metadata", "name"})), 1024);
  }

  // The same bytes as the body of every eviction answer the drainer distinguishes.
  const int statuses[] = {201, 404, 429, 500, 403, 503};
  checkEviction(statuses[size % 6], text);
  checkText(aksnode::boundedText(text, 64), 64);
  return 0;
}
