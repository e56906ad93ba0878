#pragma once
// Runs one request of an HttpClient on a test's io_context until it is answered (the test
// servers keep the loop busy forever, so io.run() would never return). Gives up after 20 s
// with a test failure rather than hanging the suite.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>

#include "agent/http/http_client.h"

namespace aksnode::testing {

inline HttpResult runRequest(boost::asio::io_context& io, HttpClient& client, HttpRequest request) {
  io.restart();  // a previous request may have left the loop stopped (out of work)
  auto fut = boost::asio::co_spawn(io, client.send(std::move(request)), boost::asio::use_future);
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < giveUp) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    ADD_FAILURE() << "request did not complete";
    return HttpResult{HttpError::Cancelled, "test gave up", {}};
  }
  return fut.get();
}

}  // namespace aksnode::testing
