#include "agent/core/secret_redaction.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_set>
#include <utility>
#include <vector>

namespace aksnode::secrets {

namespace {

constexpr std::size_t kValuesPerSlot = 4;
constexpr std::string_view kMark = "[redacted]";

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// The secrets and, per window length, every substring of that length of every secret (a secret
// shorter than kWindow is matched whole). The views point into `slots`, whose strings stay put
// (deque push_back/pop_front and map insertion keep the other elements where they are); they
// are rebuilt on every change.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::deque<std::string>, std::less<>> slots;
  std::map<std::size_t, std::unordered_set<std::string_view>> grams;

  void rebuild() {
    grams.clear();
    for (const auto& [slot, values] : slots) {
      for (const auto& secret : values) {
        const std::size_t w = std::min(kWindow, secret.size());
        auto& set = grams[w];
        for (std::size_t i = 0; i + w <= secret.size(); ++i) set.insert(std::string_view(secret).substr(i, w));
      }
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

// [begin, end) ranges of `text` covered by secret runs, merged, in order.
std::vector<std::pair<std::size_t, std::size_t>> coveredRanges(std::string_view text, Registry& r) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (r.grams.empty()) return out;
  // The text without whitespace, and where each remaining character was.
  std::string compact;
  std::vector<std::size_t> where;
  compact.reserve(text.size());
  where.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (isSpace(text[i])) continue;
    compact.push_back(text[i]);
    where.push_back(i);
  }
  std::vector<std::pair<std::size_t, std::size_t>> hits;  // in compact
  for (const auto& [w, set] : r.grams) {
    if (compact.size() < w) continue;
    std::string_view c(compact);
    for (std::size_t k = 0; k + w <= c.size(); ++k) {
      if (set.count(c.substr(k, w))) hits.emplace_back(k, k + w);
    }
  }
  if (hits.empty()) return out;
  std::sort(hits.begin(), hits.end());
  std::vector<std::pair<std::size_t, std::size_t>> merged;
  for (const auto& h : hits) {
    if (!merged.empty() && h.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, h.second);
    } else {
      merged.push_back(h);
    }
  }
  for (const auto& [b, e] : merged) out.emplace_back(where[b], where[e - 1] + 1);
  return out;
}

}  // namespace

void remember(std::string_view slot, std::string_view raw) {
  // Matched against text with its whitespace removed, so the secret is stored the same way
  // (a token file ends with a newline).
  std::string secret;
  for (char c : raw) {
    if (!isSpace(c)) secret.push_back(c);
  }
  if (secret.size() < kMinSecretLength) return;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto& values = r.slots[std::string(slot)];
  if (std::find(values.begin(), values.end(), secret) != values.end()) return;
  values.push_back(std::move(secret));
  if (values.size() > kValuesPerSlot) values.pop_front();
  r.rebuild();
}

std::string redactSecrets(std::string_view text) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto ranges = coveredRanges(text, r);
  if (ranges.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const auto& [b, e] : ranges) {
    out.append(text.substr(pos, b - pos));
    out.append(kMark);
    pos = e;
  }
  out.append(text.substr(pos));
  return out;
}

bool containsSecret(std::string_view text) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return !coveredRanges(text, r).empty();
}

void forgetAllForTests() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.slots.clear();
  r.grams.clear();
}

}  // namespace aksnode::secrets
