#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "probes/identity/pod_scan.h"

namespace aksnode::identity {
namespace {

boost::json::value pod(const std::string& ns, const std::string& name, bool labelled, bool env, const char* audience,
                       const char* phase = "Running") {
  boost::json::object p;
  p["metadata"] = {{"namespace", ns}, {"name", name}, {"labels", boost::json::object{}}};
  if (labelled) p["metadata"].as_object()["labels"].as_object()["azure.workload.identity/use"] = "true";
  boost::json::array envs;
  if (env) {
    envs.push_back(boost::json::object{{"name", "AZURE_CLIENT_ID"}, {"value", "x"}});
    envs.push_back(boost::json::object{{"name", "AZURE_FEDERATED_TOKEN_FILE"},
                                       {"value", "/var/run/secrets/azure/tokens/azure-identity-token"}});
  }
  boost::json::array sources;
  sources.push_back(boost::json::object{{"serviceAccountToken", {{"path", "token"}, {"expirationSeconds", 3607}}}});  // kube-api-access
  if (audience) {
    sources.push_back(
        boost::json::object{{"serviceAccountToken", {{"path", "azure-identity-token"}, {"audience", audience}}}});
  }
  p["spec"] = {{"containers", boost::json::array{boost::json::object{{"name", "c"}, {"env", envs}}}},
               {"volumes", boost::json::array{boost::json::object{{"name", "v"}, {"projected", {{"sources", sources}}}}}}};
  p["status"] = {{"phase", phase}};
  return p;
}

TEST(PodScan, FindsLabelledPodsTheWebhookDidNotMutate) {
  const std::string aud = "api://AzureADTokenExchange";
  boost::json::array pods{pod("ws", "good", true, true, aud.c_str()),
                          pod("ws", "unlabelled", false, false, nullptr),
                          pod("kube-system", "not-mutated", true, false, nullptr),
                          pod("ws", "no-volume", true, true, nullptr),
                          pod("ws2", "wrong-aud", true, true, "api://other"),
                          pod("ws", "finished", true, false, nullptr, "Succeeded")};
  PodScanResult r = scanIdentityPods(pods, aud);
  EXPECT_EQ(r.podsUsingIdentity, 4);
  ASSERT_EQ(r.misconfigured.size(), 3u);
  EXPECT_EQ(r.misconfigured[0].name, "not-mutated");
  EXPECT_EQ(r.misconfigured[0].reason, "NotMutated");
  EXPECT_EQ(r.misconfigured[1].reason, "TokenVolumeMissing");
  EXPECT_EQ(r.misconfigured[2].reason, "WrongAudience");
  EXPECT_EQ(r.perNamespace.at("kube-system"), 1);
  EXPECT_EQ(r.perNamespace.at("ws"), 1);
  EXPECT_EQ(r.perNamespace.at("ws2"), 1);
}

TEST(PodScan, SurvivesGarbage) {
  boost::json::array pods{boost::json::value(42), boost::json::value("x"),
                          boost::json::parse(R"({"metadata":{"labels":{"azure.workload.identity/use":"true"}},"spec":{"containers":7,"volumes":{"a":1}}})")};
  PodScanResult r = scanIdentityPods(pods, "api://AzureADTokenExchange");
  EXPECT_EQ(r.podsUsingIdentity, 1);
  ASSERT_EQ(r.misconfigured.size(), 1u);
  EXPECT_EQ(r.misconfigured[0].reason, "NotMutated");
}

}  // namespace
}  // namespace aksnode::identity
