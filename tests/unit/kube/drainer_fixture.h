// The drainer on simulated time against the fake API client: the set-up every drainer test
// shares (drainer_impl_test.cpp, drainer_neighbours_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "agent/config/config.h"
#include "agent/kube/drainer_impl.h"
#include "metrics/metrics.h"
#include "unit/kube/fake_kube_client.h"
#include "support/sim_timers.h"

namespace aksnode::testing {

struct DrainerFixture : ::testing::Test {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  SimulatedTimers timers{io, time};
  FakeKubeClient kube{timers};
  Config config;
  Metrics metrics{config};
  DrainerImpl drainer{kube, timers, &metrics};
  MonotonicTime start = time.monotonicTime();
  std::shared_ptr<CancelFlag> cancel = std::make_shared<CancelFlag>();

  DrainOptions options(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    DrainOptions o;
    o.nodeName = "node-1";
    o.deadline = start + timeout;
    return o;
  }
  long long ms(MonotonicTime t) const { return (t - start) / std::chrono::milliseconds(1); }
};

}  // namespace aksnode::testing
