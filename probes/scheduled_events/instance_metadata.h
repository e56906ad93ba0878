#pragma once
// The few facts the agent needs from GET /metadata/instance (read once at start-up).
//
// IMDS documents every leaf as a string and every missing or inapplicable value as "" (a regular
// VM may have priority ""). Keys are matched ignoring case (the issue reports variants), values
// that are not strings are read as "" and noted in `warnings`. Accepts the whole document
// ({"compute":{...},"network":{...}}) or just the compute object (/metadata/instance/compute).
// Pure function: no I/O, never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace aksnode {

struct InstanceMetadata {
  std::string name;            // compute.name: the name used in event Resources ("aks-pool-12345678-vmss_3")
  std::string computerName;    // compute.osProfile.computerName: the node name ("aks-pool-12345678-vmss000003")
  std::string vmScaleSetName;  // "" for a standalone VM (Karpenter nodes)
  std::string priority;        // "Spot", "Regular", "Low" (old low-priority scale sets) or ""
  std::string evictionPolicy;  // "Deallocate", "Delete" or ""
  std::string vmSize;
  std::string zone;
  std::string location;
  std::string resourceId;
  std::string osType;
  std::string vmId;
  std::string subscriptionId;
  std::string resourceGroupName;
  std::vector<std::string> warnings;  // fields of the wrong type, read as ""

  // Spot VMs (and the low-priority scale sets that preceded them) can be evicted (Preempt).
  bool isSpot() const;
};

// The metadata, or why not (too big, not JSON, no compute object).
Result<InstanceMetadata> parseInstanceMetadata(std::string_view body);

}  // namespace aksnode
