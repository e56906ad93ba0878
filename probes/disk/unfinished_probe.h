#pragma once
// The ProbeResult of a target whose worker did not deliver a sample this round: it hung
// (ProbeHung, this round or still from an earlier one) or could not run (ProbeFailed).
#include <chrono>
#include <string>

#include "probes/disk/blocking_worker.h"
#include "probes/probe.h"

namespace aksnode::disk {

struct Unfinished {
  WorkerOutcome outcome = WorkerOutcome::TimedOut;
  std::string stage;  // the blocking call it is stuck in
  std::chrono::nanoseconds stuckFor{0};
  std::chrono::nanoseconds deadline{0};
  std::string error;  // StartFailed
};

ProbeResult unfinishedResult(const ProbeSpec& spec, const std::string& target,
                             bool taintWhenUnhealthy, const Unfinished& unfinished, SystemTime at);

}  // namespace aksnode::disk
