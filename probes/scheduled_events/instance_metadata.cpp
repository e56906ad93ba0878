#include "probes/scheduled_events/instance_metadata.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <new>

#include "agent/core/ascii.h"
#include "probes/scheduled_events/json_fields.h"
#include "probes/scheduled_events/parser.h"  // ImdsJsonObject

namespace aksnode {
namespace {

namespace json = boost::json;

Result<InstanceMetadata> failure(std::string message) { return Result<InstanceMetadata>::failure(std::move(message)); }

// Every compute value IMDS sends is a string; "" when missing or not a string.
std::string field(const json::object& o, std::string_view key, const std::string& path,
                  std::vector<std::string>& warnings) {
  const auto l = json_fields::find(o, key);
  if (l.ambiguous) {
    warnings.push_back(path + std::string(key) + " is ambiguous (keys differing only in case); read as \"\"");
    return {};
  }
  if (!l.value || l.value->is_null()) return {};
  if (l.value->is_string()) return std::string(l.value->get_string());
  warnings.push_back(path + std::string(key) + " is not a string but " +
                     json_fields::kindName(*l.value) + "; read as \"\"");
  return {};
}

const json::object* objectMember(const json::object& o, std::string_view key) {
  const auto l = json_fields::find(o, key);
  return (l.value && l.value->is_object()) ? &l.value->get_object() : nullptr;
}

Result<InstanceMetadata> parse(std::string_view body) {
  const ImdsJsonObject document(body);
  if (!document.ok()) return failure(document.error());
  const json::object& top = document.object();

  const json::object* compute = objectMember(top, "compute");
  std::string path = "compute.";
  if (!compute) {
    // /metadata/instance/compute answers with the compute object itself.
    const bool looksLikeCompute = json_fields::find(top, "name").value != nullptr ||
                                  json_fields::find(top, "vmId").value != nullptr;
    if (!looksLikeCompute) return failure("no compute object (neither compute.name nor name present)");
    compute = &top;
    path.clear();
  }

  InstanceMetadata m;
  auto& w = m.warnings;
  m.name = field(*compute, "name", path, w);
  if (const json::object* os = objectMember(*compute, "osProfile")) {
    m.computerName = field(*os, "computerName", path + "osProfile.", w);
  }
  m.vmScaleSetName = field(*compute, "vmScaleSetName", path, w);
  m.priority = field(*compute, "priority", path, w);
  m.evictionPolicy = field(*compute, "evictionPolicy", path, w);
  m.vmSize = field(*compute, "vmSize", path, w);
  m.zone = field(*compute, "zone", path, w);
  m.location = field(*compute, "location", path, w);
  m.resourceId = field(*compute, "resourceId", path, w);
  m.osType = field(*compute, "osType", path, w);
  m.vmId = field(*compute, "vmId", path, w);
  m.subscriptionId = field(*compute, "subscriptionId", path, w);
  m.resourceGroupName = field(*compute, "resourceGroupName", path, w);
  return Result<InstanceMetadata>::success(std::move(m));
}

}  // namespace

bool InstanceMetadata::isSpot() const {
  const std::string_view p = ascii::trim(priority);
  return ascii::iequals(p, "Spot") || ascii::iequals(p, "Low");
}

Result<InstanceMetadata> parseInstanceMetadata(std::string_view body) {
  return parseImdsBody<Result<InstanceMetadata>>(body, parse);
}

}  // namespace aksnode
