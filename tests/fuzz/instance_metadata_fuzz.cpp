// libFuzzer target: untrusted bytes as the body of GET /metadata/instance (arch/FAULTS.md).
// Beyond "no crash, no hang, no sanitizer report": a successful parse always yields a usable
// struct and resolving the VM name from it never names a VM that none of the inputs named.
// Seeds: tests/fuzz/corpus/instance_metadata/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/scheduled_events/instance_metadata.h"
#include "probes/scheduled_events/resource_name.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const aksnode::Result<aksnode::InstanceMetadata> result = aksnode::parseInstanceMetadata(input);
  if (!result.ok()) {
    check(!result.error().empty());
    return 0;
  }
  const aksnode::InstanceMetadata& m = *result;
  (void)m.isSpot();
  // The scale-set instance's providerID as AKS would write it, from the metadata itself.
  const std::string providerId = "azure://" + m.resourceId;
  const auto fromProvider = aksnode::resourceNameFromProviderId(providerId);
  const auto resolved = aksnode::resolveResourceName("", m.name, providerId);
  if (resolved.ok()) {
    check(resolved.source == "imds" || resolved.source == "providerID");
    if (resolved.source == "providerID") check(resolved.name == fromProvider.name);
  } else {
    check(!resolved.reason.empty());
  }
  return 0;
}
