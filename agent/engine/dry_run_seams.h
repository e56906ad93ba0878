#pragma once
// What the engine talks to in a dry run: the decorators that log and simulate every write
// (agent/kube/dry_run_kube_client.h, DryRunAcknowledger), swapped in once, when the engine is
// built, so that the engine's own code has no dry-run branch.
#include <memory>
#include <optional>

#include "agent/engine/action_engine.h"
#include "agent/kube/dry_run_kube_client.h"
#include "probes/scheduled_events/event_acknowledger.h"

namespace aksnode {

struct DryRunSeams {
  std::optional<DryRunKubeClient> kube;
  DryRunDrainer drainer;
  DryRunAcknowledger acknowledger;
};

// deps with kube, drainer and imds replaced by the decorators in `seams` (created here) when
// deps.dryRun; an absent IMDS client is replaced by DryRunAcknowledger in any case.
ActionEngineDeps withDryRunSeams(ActionEngineDeps deps, std::unique_ptr<DryRunSeams>& seams);

}  // namespace aksnode
