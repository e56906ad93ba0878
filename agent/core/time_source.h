#pragma once
// Time is injected (as in Envoy): production code asks a TimeSource, tests pass a
// SimulatedTimeSource and move time by hand. Nothing in agent/ or probes/ calls
// std::chrono::*_clock::now() directly, so every deadline is testable; waits go through an
// Alarm (agent/core/timers.h). Two exceptions, both on real time by nature: the socket
// deadlines inside HttpClientImpl (real sockets) and the process-wide log rate limiter.
#include <chrono>

namespace aksnode {

using SystemTime = std::chrono::system_clock::time_point;
using MonotonicTime = std::chrono::steady_clock::time_point;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Wall clock: compared with IMDS NotBefore, token exp/nbf, written into the Node.
  virtual SystemTime systemTime() const = 0;
  // Monotonic clock: intervals, deadlines, latencies.
  virtual MonotonicTime monotonicTime() const = 0;
};

class RealTimeSource final : public TimeSource {
 public:
  SystemTime systemTime() const override { return std::chrono::system_clock::now(); }
  MonotonicTime monotonicTime() const override { return std::chrono::steady_clock::now(); }
};

// For tests: time moves only when advance() is called.
class SimulatedTimeSource final : public TimeSource {
 public:
  explicit SimulatedTimeSource(SystemTime start = SystemTime{std::chrono::seconds{1'800'000'000}})
      : system_(start) {}
  SystemTime systemTime() const override { return system_; }
  MonotonicTime monotonicTime() const override { return monotonic_; }
  void advance(std::chrono::nanoseconds by) {
    system_ += std::chrono::duration_cast<SystemTime::duration>(by);
    monotonic_ += by;
  }
  void setSystemTime(SystemTime t) { system_ = t; }

 private:
  SystemTime system_;
  MonotonicTime monotonic_{};
};

}  // namespace aksnode
