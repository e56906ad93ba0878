#pragma once
// Running one coroutine to completion on a real io_context (tests on simulated time use
// SimulatedTimers::run in tests/support/sim_timers.h instead).
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace aksnode::testing {

// Runs `task` on `io` until it completes and returns its value (rethrowing its exception);
// fails the test (instead of hanging it) when it takes longer than `bound`, which is what a
// probe that waited for a hung thread would do.
template <class T>
std::optional<T> runFor(boost::asio::io_context& io, boost::asio::awaitable<T> task,
                        std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out = std::move(value);
  });
  io.restart();
  io.run_for(bound);
  if (error) std::rethrow_exception(error);
  EXPECT_TRUE(out.has_value()) << "coroutine did not complete within " << bound.count() << " ms";
  return out;
}

// The same on an io_context of its own, for code that needs no executor of the test's.
template <class T>
T runSync(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> out = runFor(io, std::move(task));
  if (!out) throw std::runtime_error("coroutine did not complete");
  return std::move(*out);
}

}  // namespace aksnode::testing
