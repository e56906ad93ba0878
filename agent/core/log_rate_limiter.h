#pragma once
// Bounds how often one log message is written. A hostile or broken peer can make the agent
// repeat a line as fast as it can answer (2,000 new event ids per poll wrote 26 MB of log in
// 14 s; a 524k-entry IMDS document wrote 524,001 lines). Per message text: the first `burst`
// lines of a window pass, the rest of that window are counted and dropped, and once the window
// has ended one summary line says how many were dropped. Pure (time is passed in), so it is
// unit-tested without a clock; agent/core/logging.cpp holds one behind a mutex.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aksnode::log {

class LogRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    Clock::duration window = std::chrono::seconds(10);
    int burst = 50;
    // Messages are string literals, so the distinct keys are few; past this many the oldest
    // quiet ones are forgotten (a message built from outside text must not grow the map).
    std::size_t maxKeys = 1024;
  };
  struct Suppressed {
    std::string message;
    long long count = 0;
  };

  LogRateLimiter() : LogRateLimiter(Limits{}) {}
  explicit LogRateLimiter(Limits limits) : limits_(limits) {}

  // May this line be written now? Counts it either way.
  bool admit(std::string_view message, Clock::time_point now);
  // Messages whose window ended with lines dropped: their counts, once each.
  std::vector<Suppressed> takeEnded(Clock::time_point now);

 private:
  struct Window {
    Clock::time_point start;
    int written = 0;
    long long dropped = 0;
  };
  Limits limits_;
  std::map<std::string, Window, std::less<>> windows_;
  std::size_t windowsWithDrops_ = 0;
};

}  // namespace aksnode::log
