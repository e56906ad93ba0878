#include "agent/kube/kube_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>

namespace aksnode {

std::optional<boost::json::value> parseJsonBody(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  try {
    boost::json::value v = boost::json::parse(text, ec, {}, options);
    if (ec) return std::nullopt;
    return v;
  } catch (const std::exception&) {  // allocation failure on a hostile body
    return std::nullopt;
  }
}

const boost::json::value* jsonAt(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const boost::json::value* cur = &v;
  for (std::string_view key : path) {
    const auto* obj = cur->if_object();
    if (obj == nullptr) return nullptr;
    cur = obj->if_contains(key);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string jsonString(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const auto* found = jsonAt(v, path);
  if (found == nullptr) return "";
  const auto* s = found->if_string();
  return s == nullptr ? "" : std::string(s->data(), s->size());
}

std::string boundedText(std::string_view text, std::size_t limit) {
  std::string out;
  out.reserve(std::min(text.size(), limit));
  for (char c : text) {
    if (out.size() >= limit) {
      // Do not cut a UTF-8 sequence in half: drop its continuation bytes and lead byte.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);  // UTF-8 bytes (>= 0x80) pass through
  }
  return out;
}

std::optional<KubeStatus> parseKubeStatus(const boost::json::value& body) {
  const auto* obj = body.if_object();
  if (obj == nullptr) return std::nullopt;
  const std::string kind = jsonString(body, {"kind"});
  const auto* reasonValue = obj->if_contains("reason");
  const auto* messageValue = obj->if_contains("message");
  const bool looksLikeStatus = (reasonValue != nullptr && reasonValue->is_string()) ||
                               (messageValue != nullptr && messageValue->is_string());
  if (kind != "Status" && !looksLikeStatus) return std::nullopt;
  KubeStatus status;
  status.reason = boundedText(jsonString(body, {"reason"}), 128);
  status.message = boundedText(jsonString(body, {"message"}));
  if (const auto* code = obj->if_contains("code")) {
    if (const auto* i = code->if_int64(); i != nullptr && *i >= 0 && *i < 1000) status.code = static_cast<int>(*i);
  }
  if (const auto* retry = jsonAt(body, {"details", "retryAfterSeconds"}); retry != nullptr) {
    // Bounded: a day is far beyond any drain deadline anyway.
    if (const auto* i = retry->if_int64(); i != nullptr && *i > 0) {
      status.retryAfterSeconds = static_cast<int>(std::min<std::int64_t>(*i, 86400));
    }
  }
  if (const auto* causes = jsonAt(body, {"details", "causes"}); causes != nullptr && causes->is_array()) {
    for (const auto& cause : causes->get_array()) {
      if (!cause.is_object()) continue;
      if (status.causes.size() >= 16) break;
      status.causes.push_back(KubeStatusCause{boundedText(jsonString(cause, {"reason"}), 128),
                                              boundedText(jsonString(cause, {"message"})),
                                              boundedText(jsonString(cause, {"field"}), 256)});
    }
  }
  return status;
}

std::optional<ListPage> parseListPage(boost::json::value body) {
  auto* obj = body.if_object();
  if (obj == nullptr) return std::nullopt;
  ListPage page;
  auto* items = obj->if_contains("items");
  if (items == nullptr) return std::nullopt;
  if (auto* array = items->if_array()) {
    page.items.reserve(array->size());
    for (auto& item : *array) {
      if (item.is_object()) page.items.push_back(std::move(item));
    }
  } else if (!items->is_null()) {
    return std::nullopt;
  }
  page.continueToken = jsonString(body, {"metadata", "continue"});
  return page;
}

}  // namespace aksnode
