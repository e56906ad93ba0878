#pragma once
// Builders shared by the engine tests: pending events as the tracker reports them, Node JSON
// as the API server returns it, and probe results.
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/engine/agent_annotation.h"
#include "agent/engine/node_view.h"
#include "probes/probe.h"
#include "probes/scheduled_events/event_tracker.h"
#include "agent/http/http_date.h"

namespace aksnode::testing {

inline const std::string kVm = "aks-spot-12345678-vmss_3";
inline const std::string kOtherVm = "aks-spot-12345678-vmss_4";
// A fixed wall time with whole seconds, so RFC 3339 round trips are exact.
inline const SystemTime kWallStart{std::chrono::seconds{1'800'000'000}};

inline PendingEvent pendingEvent(std::string id, EventType type, SystemTime deadline,
                                 std::vector<std::string> resources = {kVm},
                                 EventStatus status = EventStatus::Scheduled) {
  PendingEvent p;
  p.event.eventId = std::move(id);
  p.event.type = type;
  p.event.typeName = toString(type);
  p.event.resourceType = "VirtualMachine";
  p.event.resources = std::move(resources);
  p.event.status = status;
  p.event.statusName = toString(status);
  p.event.notBefore = deadline;
  p.event.notBeforeRaw = formatRfc1123(deadline);
  p.event.eventSource = "Platform";
  p.deadline = deadline;
  p.firstSeenWall = kWallStart;
  return p;
}

inline ProbeResult probeResult(std::string kind, std::string target, bool healthy, std::string reason = {},
                               std::string message = {}, bool taint = false) {
  ProbeResult r;
  r.kind = std::move(kind);
  r.target = std::move(target);
  r.healthy = healthy;
  r.reason = std::move(reason);
  r.message = std::move(message);
  r.taintWhenUnhealthy = taint;
  for (const ProbeSpec* spec : allProbeSpecs()) {
    if (r.kind == spec->kind) r.spec = spec;  // as the agent's probe of that kind would
  }
  return r;
}

// A Node object the way the API server answers GET /api/v1/nodes/{name}.
class NodeBuilder {
 public:
  explicit NodeBuilder(std::string name = "aks-spot-12345678-vmss000003") {
    node_ = boost::json::object{
        {"apiVersion", "v1"},
        {"kind", "Node"},
        {"metadata",
         {{"name", std::move(name)},
          {"uid", "6f1c4a8e-0000-4000-8000-000000000003"},
          {"resourceVersion", "1000"},
          {"labels", {{"kubernetes.azure.com/scalesetpriority", "spot"}}},
          {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"}}}}},
        {"spec",
         {{"providerID",
           "azure:///subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/"
           "aks-spot-12345678-vmss/virtualMachines/3"},
          {"podCIDR", "10.244.3.0/24"}}},
        {"status",
         {{"conditions",
           boost::json::array{{{"type", "Ready"},
                               {"status", "True"},
                               {"reason", "KubeletReady"},
                               {"message", "kubelet is posting ready status"},
                               {"lastHeartbeatTime", "2027-01-15T08:00:00Z"},
                               {"lastTransitionTime", "2027-01-01T00:00:00Z"}}}}}}};
  }
  NodeBuilder& resourceVersion(const std::string& rv) {
    meta()["resourceVersion"] = rv;
    return *this;
  }
  NodeBuilder& unschedulable(bool on = true) {
    spec()["unschedulable"] = on;
    return *this;
  }
  NodeBuilder& taint(const std::string& key, const std::string& value, const std::string& effect,
                     const std::string& timeAdded = {}) {
    auto& taints = spec()["taints"];
    if (!taints.is_array()) taints = boost::json::array{};
    boost::json::object t{{"key", key}, {"effect", effect}};
    if (!value.empty()) t["value"] = value;
    if (!timeAdded.empty()) t["timeAdded"] = timeAdded;
    taints.as_array().push_back(std::move(t));
    return *this;
  }
  NodeBuilder& annotation(const std::string& key, const std::string& value) {
    meta()["annotations"].as_object()[key] = value;
    return *this;
  }
  NodeBuilder& agentState(const AgentAnnotation& a) { return annotation(kAnnotationState, serializeAnnotation(a)); }
  NodeBuilder& condition(const std::string& type, const std::string& status, const std::string& reason,
                         const std::string& message, SystemTime heartbeat, SystemTime transition) {
    auto& list = node_.as_object().at("status").as_object()["conditions"].as_array();
    list.push_back(boost::json::object{{"type", type},
                                       {"status", status},
                                       {"reason", reason},
                                       {"message", message},
                                       {"lastHeartbeatTime", formatRfc3339(heartbeat)},
                                       {"lastTransitionTime", formatRfc3339(transition)}});
    return *this;
  }
  boost::json::value json() const { return node_; }
  NodeView view() const {
    auto v = parseNodeView(node_);
    if (!v) throw std::runtime_error("NodeBuilder made an unreadable node");
    return *v;
  }

 private:
  boost::json::object& meta() { return node_.as_object().at("metadata").as_object(); }
  boost::json::object& spec() { return node_.as_object().at("spec").as_object(); }
  boost::json::value node_;
};

}  // namespace aksnode::testing
