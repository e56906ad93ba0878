#include "probes/scheduled_events/resource_name.h"

#include <vector>

#include "agent/core/ascii.h"

namespace aksnode {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

bool allDigits(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (!ascii::isDigit(c)) return false;
  }
  return true;
}

ProviderIdName notUsable(std::string reason) { return ProviderIdName{{}, std::move(reason)}; }

}  // namespace

bool sameResourceName(std::string_view a, std::string_view b) {
  return !a.empty() && ascii::iequals(a, b);
}

ProviderIdName resourceNameFromProviderId(std::string_view providerID) {
  const std::string_view id = ascii::trim(providerID);
  if (id.empty()) return notUsable("the node has no spec.providerID");
  constexpr std::string_view kScheme = "azure://";
  if (id.size() < kScheme.size() || !ascii::iequals(id.substr(0, kScheme.size()), kScheme)) {
    return notUsable("spec.providerID is not an Azure provider ID (expected azure:///subscriptions/...)");
  }
  std::string_view path = id.substr(kScheme.size());
  if (path.find_first_of("?#") != std::string_view::npos) {
    return notUsable("spec.providerID carries a query or fragment");
  }
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  } else {
    return notUsable("spec.providerID has no absolute path after azure:// (expected azure:///subscriptions/...)");
  }
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const auto parts = splitPath(path);
  for (std::string_view p : parts) {
    if (p.empty()) return notUsable("spec.providerID has an empty path segment");
  }
  // subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/<kind>/...
  const auto is = [&](std::size_t i, std::string_view expected) {
    return i < parts.size() && ascii::iequals(parts[i], expected);
  };
  if (!is(0, "subscriptions") || !is(2, "resourceGroups") || !is(4, "providers") ||
      !is(5, "Microsoft.Compute")) {
    return notUsable("spec.providerID is not a Microsoft.Compute resource "
                     "(expected /subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/...)");
  }
  if (parts.size() == 8 && is(6, "virtualMachines")) return ProviderIdName{std::string(parts[7]), {}};
  if (parts.size() == 10 && is(6, "virtualMachineScaleSets") && is(8, "virtualMachines")) {
    if (!allDigits(parts[9])) {
      return notUsable("spec.providerID names a scale-set instance whose id is not a number");
    }
    return ProviderIdName{std::string(parts[7]) + "_" + std::string(parts[9]), {}};
  }
  return notUsable("spec.providerID is neither .../virtualMachines/NAME nor "
                   ".../virtualMachineScaleSets/SS/virtualMachines/N");
}

ResourceNameResolution resolveResourceName(std::string_view configured, std::string_view imdsComputeName,
                                           std::string_view providerID) {
  const std::string_view fromConfig = ascii::trim(configured);
  const std::string_view fromImds = ascii::trim(imdsComputeName);
  const ProviderIdName fromProvider = resourceNameFromProviderId(providerID);

  ResourceNameResolution r;
  if (!fromConfig.empty()) {
    r.name = std::string(fromConfig);
    r.source = "config";
  } else if (!fromImds.empty()) {
    r.name = std::string(fromImds);
    r.source = "imds";
  } else if (!fromProvider.name.empty()) {
    r.name = fromProvider.name;
    r.source = "providerID";
    return r;
  } else {
    r.reason = "no VM resource name: imds.resourceName is not set, IMDS compute.name is empty or "
               "unavailable, and " + fromProvider.reason;
    return r;
  }
  // Cross-checks: a disagreement usually means a wrong imds.resourceName.
  if (r.source == "config" && !fromImds.empty() && !sameResourceName(fromImds, r.name)) {
    r.warning = "imds.resourceName \"" + r.name + "\" differs from IMDS compute.name \"" +
                std::string(fromImds) + "\"";
  } else if (!fromProvider.name.empty() && !sameResourceName(fromProvider.name, r.name)) {
    r.warning = "the VM resource name \"" + r.name + "\" (from " + r.source +
                ") differs from the one derived from spec.providerID \"" + fromProvider.name + "\"";
  }
  return r;
}

bool eventTargetsVm(const ScheduledEvent& event, const std::string& vmName) {
  if (vmName.empty()) return false;
  for (const auto& r : event.resources) {
    if (sameResourceName(r, vmName)) return true;
  }
  return false;
}

bool eventTargetsOnlyVm(const ScheduledEvent& event, const std::string& vmName) {
  if (vmName.empty() || event.resources.empty()) return false;
  for (const auto& r : event.resources) {
    if (!sameResourceName(r, vmName)) return false;
  }
  return true;
}

}  // namespace aksnode
