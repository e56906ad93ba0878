#pragma once
// The few facts about a pod the drain needs, read defensively from the API server's JSON, and
// kubectl drain's decision for it.
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace aksnode {

struct DrainOptions;

struct PodInfo {
  std::string ns;
  std::string name;
  std::string uid;
  std::string nodeName;        // spec.nodeName ("" if absent)
  std::string phase;           // Pending, Running, Succeeded, Failed, Unknown ("" if absent)
  std::string controllerKind;  // kind of the ownerReference with controller=true ("" = none)
  bool mirror = false;         // annotation kubernetes.io/config.mirror (static pod)
  bool emptyDir = false;       // any volume is an emptyDir
  bool terminating = false;    // metadata.deletionTimestamp set
  std::optional<std::int64_t> terminationGracePeriodSeconds;
  std::string key() const { return ns + "/" + name; }
};

// nullopt when metadata.name or metadata.namespace is missing or not a string.
std::optional<PodInfo> parsePod(const boost::json::value& pod);

enum class PodDisposition {
  Evict,  // evict it (possibly noted as unreplicated)
  Skip,   // leave it alone: DaemonSet, mirror, finished, own pod, skipped namespace
  Block,  // must not be evicted and keeps the drain from succeeding (EmptyDir)
};

struct PodDecision {
  PodDisposition disposition = PodDisposition::Evict;
  std::string why;            // Skip: "DaemonSet", "mirror pod", ...; Block: "EmptyDir"
  bool unreplicated = false;  // Evict without a controller: it will not come back elsewhere
};

// Why-prefix of a pod skipped because the list returned it for another node.
inline constexpr const char* kOnAnotherNode = "on another node: spec.nodeName=";

// kubectl drain's filters, in its order: skip namespaces and the agent's own pod first, then
// finished, mirror and DaemonSet pods; then the local-storage check.
PodDecision classifyPod(const PodInfo& pod, const DrainOptions& options);

// The least grace period the agent ever asks for: 0 would be a force delete.
inline constexpr int kMinGracePeriodSeconds = 1;

// The grace period to ask for: min(pod's terminationGracePeriodSeconds (default 30), cap), at
// least kMinGracePeriodSeconds; nullopt without a cap (the eviction keeps the pod's own).
std::optional<int> evictionGracePeriod(const PodInfo& pod, std::optional<int> cap);

}  // namespace aksnode
