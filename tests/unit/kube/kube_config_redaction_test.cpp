// A kubeconfig refusal is logged and shown by /readyz, so it must never quote a credential.
// Regression test for a finding of tests/fuzz/kubeconfig_fuzz.cpp: a server URL with user
// info (https://user:password@host) was quoted whole in the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/kube/kube_config.h"

namespace aksnode {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

KubeConnectionResult withServer(const std::string& server) {
  return parseKubeconfig("current-context: ctx\n"
                         "contexts: [{name: ctx, context: {cluster: c1, user: u1}}]\n"
                         "clusters: [{name: c1, cluster: {server: \"" + server + "\"}}]\n"
                         "users: [{name: u1, user: {token: t0k3n-value}}]\n",
                         "");
}

TEST(KubeconfigRedaction, ServerPasswordIsNeverQuoted) {
  const auto r = withServer("https://admin:hunter2-password@k8s.example:6443/prefix");
  ASSERT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("user info"));
  EXPECT_THAT(r.reason, HasSubstr("https://[redacted]@k8s.example:6443/prefix"));
  EXPECT_THAT(r.reason, Not(HasSubstr("hunter2")));
  EXPECT_THAT(r.reason, Not(HasSubstr("admin")));
}

TEST(KubeconfigRedaction, TokenAsUserNameIsNeverQuoted) {
  const auto r = withServer("https://ghp_0123456789abcdef@k8s.example");
  ASSERT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, Not(HasSubstr("ghp_0123456789abcdef")));
}

TEST(KubeconfigRedaction, EveryServerErrorRedacts) {
  // Each refusal of normalizeServer: not a URL, wrong scheme, user info with a query.
  for (const std::string server : {"https://user:pass word-secret@k8s.example", "ftp://user:ftp-secret-1@k8s.example",
                                   "https://user:query-secret-2@k8s.example/?x=1"}) {
    const auto r = withServer(server);
    ASSERT_EQ(r.status, KubeConfigStatus::Invalid) << server;
    EXPECT_THAT(r.reason, HasSubstr("[redacted]@k8s.example")) << r.reason;
    EXPECT_THAT(r.reason, Not(HasSubstr("secret"))) << r.reason;
  }
}

TEST(KubeconfigRedaction, OnlyTheUserInfoIsRedacted) {
  // An '@' in the path is not user info: the message still shows the URL as written.
  const auto r = withServer("https://k8s.example/a@b?x=1");
  ASSERT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("\"https://k8s.example/a@b?x=1\""));
}

}  // namespace
}  // namespace aksnode
