#pragma once
// The agent's long-running loops (health probes, pod scan, /healthz tick, VM discovery, and
// those it only counts: the IMDS poller, the lease, the engine) and their end at shutdown.
// Every wait is an Alarm from the injected Timers: stop() wakes them all at once, and tests
// drive the loops on a simulated clock instead of sleeping.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "agent/core/timers.h"

namespace aksnode {

class Loops {
 public:
  // One round of a loop: how long to wait before the next one, or std::nullopt when done.
  using Round = std::function<boost::asio::awaitable<std::optional<std::chrono::nanoseconds>>()>;

  explicit Loops(Timers& timers);
  ~Loops();
  Loops(const Loops&) = delete;
  Loops& operator=(const Loops&) = delete;

  // Runs `loop`, counted in live() until it returns (or its frame is destroyed).
  boost::asio::awaitable<void> guarded(boost::asio::awaitable<void> loop);
  // Runs `round` until stop() or until it returns std::nullopt, waiting after each round the
  // time it returns. A round that ends after stop() is not followed by a wait.
  boost::asio::awaitable<void> repeat(Round round);
  // Ends every wait of repeat() and every later round; idempotent.
  void stop();
  bool stopping() const { return state_->stopping; }
  // Guarded loops still running.
  int live() const { return state_->live; }
  // Returns once no guarded loop is live, or after `grace`, whichever comes first.
  boost::asio::awaitable<void> ended(std::chrono::nanoseconds grace);

 private:
  // Shared with the guards in the loops' frames, which the io_context may destroy after this.
  struct State {
    int live = 0;
    bool stopping = false;
    Alarm* allEnded = nullptr;  // woken when live drops to 0; null once Loops is gone
  };
  struct Guard;

  Timers& timers_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Alarm> allEnded_;
  std::vector<std::unique_ptr<Alarm>> alarms_;  // one per repeat(), woken by stop()
};

}  // namespace aksnode
