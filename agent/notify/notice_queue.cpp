#include "agent/notify/notice_queue.h"

namespace aksnode {

bool NoticeQueue::push(Notice notice) {
  bool kept = true;
  if (items_.size() >= capacity_) {
    items_.pop_front();
    ++dropped_;
    kept = false;
  }
  items_.push_back(std::move(notice));
  return kept;
}

std::optional<Notice> NoticeQueue::pop() {
  if (items_.empty()) return std::nullopt;
  Notice n = std::move(items_.front());
  items_.pop_front();
  return n;
}

}  // namespace aksnode
