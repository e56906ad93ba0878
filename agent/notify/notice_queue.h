#pragma once
// A webhook's waiting notices: bounded, oldest dropped first. A receiver that hangs for its
// whole budget on every notice falls behind a burst (20 EvictionBlocked in a drain); the
// newest news (the drain's result) is worth more than the oldest, and memory stays bounded.
#include <cstddef>
#include <deque>
#include <optional>

#include "agent/notify/notice.h"

namespace aksnode {

class NoticeQueue {
 public:
  explicit NoticeQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  // False when the oldest waiting notice was dropped to make room.
  bool push(Notice notice);
  std::optional<Notice> pop();
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::size_t capacity() const { return capacity_; }
  long long dropped() const { return dropped_; }

 private:
  std::size_t capacity_;
  std::deque<Notice> items_;
  long long dropped_ = 0;
};

}  // namespace aksnode
