#pragma once
// identity.podScan: pods on this node labelled azure.workload.identity/use=true must have
// been mutated by the workload identity webhook. A labelled pod without the injected
// AZURE_FEDERATED_TOKEN_FILE / AZURE_CLIENT_ID environment or without the projected token
// volume (audience api://AzureADTokenExchange) reaches Blob Storage with nothing: the webhook
// was down when the pod was created, or the namespace is excluded (kube-system).
// Pure: the caller lists the pods and exports aksnode_identity_pods_misconfigured{namespace}.
#include <boost/json/array.hpp>

#include <map>
#include <string>
#include <vector>

namespace aksnode::identity {

struct MisconfiguredPod {
  std::string ns;
  std::string name;
  std::string reason;  // NotMutated, TokenVolumeMissing, WrongAudience
};

struct PodScanResult {
  int podsUsingIdentity = 0;
  std::vector<MisconfiguredPod> misconfigured;
  std::map<std::string, int> perNamespace;  // misconfigured pods by namespace
};

PodScanResult scanIdentityPods(const boost::json::array& pods, const std::string& expectedAudience);

}  // namespace aksnode::identity
