#include "probes/disk/blocking_worker.h"

namespace aksnode::disk {

MonotonicTime WorkerContext::now() const {
  std::lock_guard lock(shared_->mutex);
  if (shared_->abandoned || shared_->time == nullptr) return MonotonicTime::max();
  return shared_->time->monotonicTime();
}

void WorkerContext::setStage(const char* stage) {
  std::lock_guard lock(shared_->mutex);
  shared_->stage = stage;
}

const char* toString(WorkerOutcome outcome) {
  switch (outcome) {
    case WorkerOutcome::Done: return "done";
    case WorkerOutcome::TimedOut: return "timed_out";
    case WorkerOutcome::StillBusy: return "still_busy";
    case WorkerOutcome::StartFailed: return "start_failed";
  }
  return "unknown";
}

}  // namespace aksnode::disk
