// Swapping the dry run's decorators in (see dry_run_seams.h).
#include "agent/engine/dry_run_seams.h"

namespace aksnode {

ActionEngineDeps withDryRunSeams(ActionEngineDeps deps, std::unique_ptr<DryRunSeams>& seams) {
  if (deps.dryRun || !deps.imds) seams = std::make_unique<DryRunSeams>();
  if (!deps.imds) deps.imds = &seams->acknowledger;  // nothing to acknowledge with: as in a dry run
  if (!deps.dryRun) return deps;
  if (deps.kube) deps.kube = &seams->kube.emplace(*deps.kube);
  if (deps.drainer) deps.drainer = &seams->drainer;
  deps.imds = &seams->acknowledger;
  return deps;
}

}  // namespace aksnode
