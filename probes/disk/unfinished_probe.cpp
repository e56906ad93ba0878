#include "probes/disk/unfinished_probe.h"

#include "probes/disk/filesystem_sample.h"

namespace aksnode::disk {

ProbeResult unfinishedResult(const ProbeSpec& spec, const std::string& target,
                             bool taintWhenUnhealthy, const Unfinished& unfinished, SystemTime at) {
  ProbeResult r = ProbeResult::forSpec(spec);
  const std::string kind = spec.kind;
  r.target = target;
  r.healthy = false;
  r.at = at;
  r.taintWhenUnhealthy = taintWhenUnhealthy;
  r.details["path"] = target;
  r.details["worker"] = toString(unfinished.outcome);
  const std::string stage = unfinished.stage.empty() ? "an unknown call" : unfinished.stage;
  switch (unfinished.outcome) {
    case WorkerOutcome::TimedOut:
      r.reason = "ProbeHung";
      r.message = kind + " probe of " + target + " did not return within " +
                  formatDuration(unfinished.deadline) + " (blocked in " + stage +
                  "); the filesystem may be hung";
      break;
    case WorkerOutcome::StillBusy:
      r.reason = "ProbeHung";
      r.message = kind + " probe of " + target + " started " + formatDuration(unfinished.stuckFor) +
                  " ago is still blocked in " + stage + "; no new probe started";
      break;
    case WorkerOutcome::StartFailed:
    case WorkerOutcome::Done:
      r.reason = "ProbeFailed";
      r.message = kind + " probe of " + target + " could not run: " + unfinished.error;
      break;
  }
  if (r.reason == "ProbeHung") {
    r.details["stage"] = unfinished.stage;
    r.details["stuckForSeconds"] = seconds(unfinished.stuckFor);
    r.details["deadlineSeconds"] = seconds(unfinished.deadline);
  }
  return r;
}

}  // namespace aksnode::disk
