#pragma once
// Flap damping for disk, cache and identity results: a target's state flips only after
// `threshold` consecutive results that disagree with it (config `healthThreshold`). The first
// result for a target is taken as it is, so a broken disk is reported at start-up at once.
#include <map>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace aksnode {

struct HealthTransition {
  ProbeResult result;  // the result that flipped the state
  bool nowHealthy = false;
};

class HealthDebouncer {
 public:
  explicit HealthDebouncer(int threshold) : threshold_(threshold < 1 ? 1 : threshold) {}
  // Feeds one round of raw results; returns the flips. current() then holds, per target,
  // the latest raw result with `healthy` (and reason/message when unhealthy) as debounced.
  std::vector<HealthTransition> feed(const std::vector<ProbeResult>& results);
  std::vector<ProbeResult> current() const;

 private:
  struct Tracked {
    ProbeResult shown;   // what the node and the metrics see
    ProbeResult latest;  // the last raw result
    int disagreeing = 0;
  };
  int threshold_;
  std::map<std::pair<std::string, std::string>, Tracked> targets_;
  std::vector<std::pair<std::string, std::string>> order_;
};

}  // namespace aksnode
