#pragma once
// Reading what the API server sends: every body is untrusted (size, depth and types are
// checked; nothing here throws). Also used by the fuzz target tests/fuzz/kube_json_fuzz.cpp.
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aksnode {

inline constexpr std::size_t kMaxJsonDepth = 64;  // managedFields nest ~15 deep in pods

// nullopt when the text is not one JSON value within the depth limit.
std::optional<boost::json::value> parseJsonBody(std::string_view text);

// A metav1.Status (the body of API errors).
struct KubeStatusCause {
  std::string reason;   // e.g. DisruptionBudget
  std::string message;  // e.g. "The disruption budget web needs 2 healthy pods and has 1 currently"
  std::string field;
};
struct KubeStatus {
  std::string reason;   // NotFound, Conflict, TooManyRequests, ...
  std::string message;
  int code = 0;
  std::vector<KubeStatusCause> causes;
  int retryAfterSeconds = 0;  // details.retryAfterSeconds (0 = absent)
};
// nullopt unless the value is an object with kind "Status" (or reason/message strings).
std::optional<KubeStatus> parseKubeStatus(const boost::json::value& body);

// Strings from the API server end up in logs, Events and /status: bounded and printable.
std::string boundedText(std::string_view text, std::size_t limit = 1024);

// One page of a list: items (objects only) and metadata.continue.
struct ListPage {
  boost::json::array items;
  std::string continueToken;
};
// nullopt unless body is an object with an `items` array (null items = empty list).
std::optional<ListPage> parseListPage(boost::json::value body);

// Typed field access: the value at a path of object keys, or nullptr on any type mismatch.
const boost::json::value* jsonAt(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::string jsonString(const boost::json::value& v, std::initializer_list<std::string_view> path);

}  // namespace aksnode
