#include "agent/engine/health_debouncer.h"

namespace aksnode {

std::vector<HealthTransition> HealthDebouncer::feed(const std::vector<ProbeResult>& results) {
  std::vector<HealthTransition> flips;
  for (const auto& r : results) {
    auto key = std::make_pair(r.kind, r.target);
    auto it = targets_.find(key);
    if (it == targets_.end()) {
      targets_.emplace(key, Tracked{r, r, 0});
      order_.push_back(key);
      if (!r.healthy) flips.push_back({r, false});
      continue;
    }
    Tracked& t = it->second;
    t.latest = r;
    if (r.healthy == t.shown.healthy) {
      t.disagreeing = 0;
      t.shown = r;  // same state: refresh numbers and the reason/message of a failure
      continue;
    }
    if (++t.disagreeing >= threshold_) {
      t.disagreeing = 0;
      t.shown = r;
      flips.push_back({r, r.healthy});
    } else {
      // Not flipped yet: keep the shown state, refresh its details from the raw result.
      bool healthy = t.shown.healthy;
      std::string reason = t.shown.reason, message = t.shown.message;
      t.shown = r;
      t.shown.healthy = healthy;
      t.shown.reason = reason;
      t.shown.message = message;
    }
  }
  return flips;
}

std::vector<ProbeResult> HealthDebouncer::current() const {
  std::vector<ProbeResult> out;
  out.reserve(order_.size());
  for (const auto& key : order_) out.push_back(targets_.at(key).shown);
  return out;
}

}  // namespace aksnode
