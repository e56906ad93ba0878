#include "agent/core/log_rate_limiter.h"

#include <algorithm>

namespace aksnode::log {

bool LogRateLimiter::admit(std::string_view message, Clock::time_point now) {
  auto it = windows_.find(message);
  if (it == windows_.end()) {
    if (windows_.size() >= limits_.maxKeys) {
      // Forget windows that ended without drops to make room; if none, this message is not
      // tracked (written) rather than letting the map grow.
      for (auto w = windows_.begin(); w != windows_.end();) {
        w = (now - w->second.start >= limits_.window && w->second.dropped == 0) ? windows_.erase(w) : std::next(w);
      }
      if (windows_.size() >= limits_.maxKeys) return true;
    }
    it = windows_.emplace(std::string(message), Window{now, 0, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= limits_.window) {
    if (w.dropped > 0) return true;  // takeEnded() reports the old window first; keep writing
    w = Window{now, 0, 0};
  }
  if (w.written < limits_.burst) {
    ++w.written;
    return true;
  }
  if (w.dropped++ == 0) ++windowsWithDrops_;
  return false;
}

std::vector<LogRateLimiter::Suppressed> LogRateLimiter::takeEnded(Clock::time_point now) {
  std::vector<Suppressed> out;
  if (windowsWithDrops_ == 0) return out;  // the common case, checked on every line
  for (auto& [message, w] : windows_) {
    if (w.dropped > 0 && now - w.start >= limits_.window) {
      out.push_back({message, w.dropped});
      w = Window{now, 0, 0};
      --windowsWithDrops_;
    }
  }
  return out;
}

}  // namespace aksnode::log
