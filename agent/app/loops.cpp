#include "agent/app/loops.h"

namespace aksnode {

namespace asio = boost::asio;

struct Loops::Guard {
  explicit Guard(std::shared_ptr<State> s) : state(std::move(s)) { ++state->live; }
  ~Guard() {
    if (--state->live == 0 && state->allEnded != nullptr) state->allEnded->wake();
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  std::shared_ptr<State> state;
};

Loops::Loops(Timers& timers)
    : timers_(timers), state_(std::make_shared<State>()), allEnded_(timers.makeAlarm()) {
  state_->allEnded = allEnded_.get();
}

Loops::~Loops() { state_->allEnded = nullptr; }

asio::awaitable<void> Loops::guarded(asio::awaitable<void> loop) {
  Guard guard(state_);
  co_await std::move(loop);
}

asio::awaitable<void> Loops::repeat(Round round) {
  Alarm& alarm = *alarms_.emplace_back(timers_.makeAlarm());
  while (!state_->stopping) {
    const std::optional<std::chrono::nanoseconds> wait = co_await round();
    if (!wait || state_->stopping) co_return;
    co_await alarm.waitUntil(timers_.now() + *wait);
  }
}

void Loops::stop() {
  if (state_->stopping) return;
  state_->stopping = true;
  for (auto& alarm : alarms_) alarm->wake();
}

asio::awaitable<void> Loops::ended(std::chrono::nanoseconds grace) {
  const MonotonicTime giveUp = timers_.now() + grace;
  while (state_->live > 0 && timers_.now() < giveUp) co_await allEnded_->waitUntil(giveUp);
}

}  // namespace aksnode
