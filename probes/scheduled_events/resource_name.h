#pragma once
// Which VM this agent runs on, as IMDS names it in event `Resources`, and whether an event
// concerns that VM.
//
// Events for an availability set or a scale-set placement group are delivered to every VM in
// it, so acting on an event that does not name this VM would drain a healthy node. Azure VM
// names are case-insensitive: names are compared ignoring ASCII case, always as whole names
// (`aks-pool-12345678-vmss_3` never matches `aks-pool-12345678-vmss_31`).
#include <string>
#include <string_view>

#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode {

struct ResourceNameResolution {
  std::string name;    // "" when nothing usable was found
  std::string source;  // "config", "imds" or "providerID"; "" when name is ""
  std::string reason;  // when name is "": why not, for the log and /readyz
  // Set when a lower-priority source names a different VM than the one chosen (e.g. the node's
  // providerID disagrees with IMDS compute.name): worth a warning, the choice stands.
  std::string warning;
  bool ok() const { return !name.empty(); }
};

// docs/configuration.md `imds.resourceName` if set, else IMDS compute.name, else the name derived from the
// Node's spec.providerID. Surrounding whitespace is ignored; pass "" for an unknown input.
ResourceNameResolution resolveResourceName(std::string_view configured, std::string_view imdsComputeName,
                                           std::string_view providerID);

struct ProviderIdName {
  std::string name;    // "" when the providerID is not an Azure VM or scale-set VM
  std::string reason;  // why not
};

// azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/SS/virtualMachines/3
//   -> "SS_3" (uniform scale-set instance; the instance id must be decimal)
// azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME
//   -> "NAME" (standalone VM: Karpenter nodes, flexible scale sets)
// Scheme and the fixed path segments are matched ignoring case; one trailing '/' is tolerated;
// anything else (other providers, empty segments, a query) gives "" and a reason.
ProviderIdName resourceNameFromProviderId(std::string_view providerID);

// Whole-name, ASCII-case-insensitive comparison; an empty name equals nothing.
bool sameResourceName(std::string_view a, std::string_view b);

// True when the event's Resources contain `vmName`. An empty vmName matches nothing.
bool eventTargetsVm(const ScheduledEvent& event, const std::string& vmName);

// True when the event's Resources name this VM and no other: the acknowledgement guard
// (approving an event lets it proceed for every VM in Resources). Empty Resources: false.
bool eventTargetsOnlyVm(const ScheduledEvent& event, const std::string& vmName);

}  // namespace aksnode
