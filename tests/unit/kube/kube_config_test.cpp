#include "agent/kube/kube_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <map>

#include "support/temp_dir.h"

namespace aksnode {
namespace {

using ::testing::HasSubstr;

struct InClusterTest : ::testing::Test {
  testing::TempDir dir;
  std::map<std::string, std::string> env{{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                         {"KUBERNETES_SERVICE_PORT", "443"}};
  InClusterEnvironment environment() {
    InClusterEnvironment e;
    e.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    e.serviceAccountDir = dir.path();
    return e;
  }
  void SetUp() override {
    dir.write("token", "sa-token\n");
    dir.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    dir.write("namespace", "aks-node-agent\n");
  }
};

TEST_F(InClusterTest, ServiceAccount) {
  const auto r = loadInClusterConnection(environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "https://10.0.0.1:443");
  EXPECT_EQ(r.connection->tokenFile, dir.file("token"));
  EXPECT_EQ(r.connection->token, "") << "the file is re-read, never copied";
  EXPECT_EQ(r.connection->tls.caFile, dir.file("ca.crt"));
  EXPECT_EQ(r.connection->ns, "aks-node-agent");
  EXPECT_EQ(r.connection->source, "in-cluster");
}

TEST_F(InClusterTest, IPv6HostGetsBrackets) {
  env["KUBERNETES_SERVICE_HOST"] = "fd00:10::1";
  const auto r = loadInClusterConnection(environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "https://[fd00:10::1]:443");
}

TEST_F(InClusterTest, AksFqdnHost) {
  env["KUBERNETES_SERVICE_HOST"] = "myaks-dns-12345678.hcp.westeurope.azmk8s.io";
  const auto r = loadInClusterConnection(environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "https://myaks-dns-12345678.hcp.westeurope.azmk8s.io:443");
}

TEST_F(InClusterTest, NotInAClusterIsNotConfigured) {
  env.clear();
  const auto r = loadInClusterConnection(environment());
  EXPECT_EQ(r.status, KubeConfigStatus::NotConfigured);
  EXPECT_FALSE(r.connection);
  EXPECT_THAT(r.reason, HasSubstr("KUBERNETES_SERVICE_HOST"));
  EXPECT_THAT(r.reason, HasSubstr("kubeconfig"));
}

TEST_F(InClusterTest, BadPort) {
  for (const char* port : {"https", "0", "65536", "443x", "-1"}) {
    env["KUBERNETES_SERVICE_PORT"] = port;
    const auto r = loadInClusterConnection(environment());
    EXPECT_EQ(r.status, KubeConfigStatus::Invalid) << port;
    EXPECT_THAT(r.reason, HasSubstr("KUBERNETES_SERVICE_PORT")) << port;
  }
}

TEST_F(InClusterTest, MissingTokenOrCa) {
  std::filesystem::remove(dir.file("token"));
  auto r = loadInClusterConnection(environment());
  EXPECT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("token"));
  dir.write("token", "x");
  std::filesystem::remove(dir.file("ca.crt"));
  r = loadInClusterConnection(environment());
  EXPECT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("ca.crt"));
}

TEST_F(InClusterTest, NamespaceFileIsOptional) {
  std::filesystem::remove(dir.file("namespace"));
  const auto r = loadInClusterConnection(environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->ns, "");
}

TEST_F(InClusterTest, EmptyKubeconfigPathMeansInCluster) {
  const auto r = loadKubeConnection("", environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->source, "in-cluster");
}

// --- kubeconfig ----------------------------------------------------------------------------

constexpr const char* kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
// base64 of kPem
constexpr const char* kPemBase64 =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& context = "  context: {cluster: c1, user: u1, namespace: ns1}\n") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
         "contexts:\n- name: other\n  context: {cluster: nope, user: nope}\n- name: ctx\n" + context +
         "clusters:\n- name: c1\n  cluster:\n" + cluster + "users:\n- name: u1\n  user:\n" + user;
}

TEST(Kubeconfig, TokenAndInlineCa) {
  const auto r = parseKubeconfig(kubeconfig(std::string("    server: https://api.example.com:6443/\n"
                                                        "    certificate-authority-data: ") + kPemBase64 + "\n",
                                            "    token: abc.def\n"),
                                 "/etc/kube");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "https://api.example.com:6443");
  EXPECT_EQ(r.connection->token, "abc.def");
  EXPECT_EQ(r.connection->tokenFile, "");
  EXPECT_EQ(r.connection->tls.caPem, kPem);
  EXPECT_EQ(r.connection->tls.caFile, "");
  EXPECT_EQ(r.connection->ns, "ns1");
  EXPECT_EQ(r.connection->source, "kubeconfig context ctx");
}

TEST(Kubeconfig, RelativeFilesResolveAgainstTheKubeconfigDirectory) {
  testing::TempDir dir;
  dir.write("pki/ca.crt", kPem);
  dir.write("pki/client.crt", kPem);
  dir.write("pki/client.key", "key");
  dir.write("token", "t");
  const std::string path = dir.write("config", kubeconfig("    server: https://10.1.2.3\n"
                                                          "    certificate-authority: pki/ca.crt\n",
                                                          "    client-certificate: pki/client.crt\n"
                                                          "    client-key: pki/client.key\n"
                                                          "    tokenFile: token\n"));
  const auto r = loadKubeconfigConnection(path);
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->tls.caFile, dir.file("pki/ca.crt"));
  EXPECT_EQ(r.connection->tls.clientCertFile, dir.file("pki/client.crt"));
  EXPECT_EQ(r.connection->tls.clientKeyFile, dir.file("pki/client.key"));
  EXPECT_EQ(r.connection->tokenFile, dir.file("token"));
  EXPECT_THAT(r.connection->source, HasSubstr(path));
  const auto viaTop = loadKubeConnection(path);
  ASSERT_TRUE(viaTop.ok()) << viaTop.reason;
  EXPECT_EQ(viaTop.connection->server, "https://10.1.2.3");
}

TEST(Kubeconfig, InlineClientCertificate) {
  const auto r = parseKubeconfig(
      kubeconfig("    server: https://k\n",
                 std::string("    client-certificate-data: ") + kPemBase64 + "\n    client-key-data: a2V5\n"),
      "");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->tls.clientCertPem, kPem);
  EXPECT_EQ(r.connection->tls.clientKeyPem, "key");
  EXPECT_EQ(r.connection->token, "");
}

TEST(Kubeconfig, PlainHttpForTestsAndNoUser) {
  const auto r = parseKubeconfig(kubeconfig("    server: http://127.0.0.1:8080\n", "    {}\n",
                                            "  context: {cluster: c1}\n"),
                                 "");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "http://127.0.0.1:8080");
  EXPECT_EQ(r.connection->token, "");
}

TEST(Kubeconfig, KeepsAServerPathPrefix) {
  const auto r = parseKubeconfig(kubeconfig("    server: https://rancher.example.com/k8s/clusters/c-1\n", "    token: t\n"), "");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->server, "https://rancher.example.com/k8s/clusters/c-1");
}

struct RefusedCase {
  std::string cluster;
  std::string user;
  std::string expected;
};

TEST(Kubeconfig, RefusesWhatItCannotHonour) {
  const std::vector<RefusedCase> cases{
      {"    server: https://k\n    insecure-skip-tls-verify: true\n", "    token: t\n", "insecure-skip-tls-verify"},
      {"    server: https://k\n    proxy-url: http://proxy:3128\n", "    token: t\n", "proxy-url"},
      {"    server: https://k\n    tls-server-name: other\n", "    token: t\n", "tls-server-name"},
      {"    server: https://k\n", "    exec: {command: kubelogin}\n", "credential plugin"},
      {"    server: https://k\n", "    auth-provider: {name: azure}\n", "credential plugin"},
      {"    server: https://k\n", "    username: admin\n    password: secret\n", "basic authentication"},
      {"    server: https://k\n", "    as: someone\n", "impersonation"},
      {"    server: ftp://k\n", "    token: t\n", "scheme"},
      {"    server: not a url\n", "    token: t\n", "server"},
      {"    server: https://user:pw@k\n", "    token: t\n", "user info"},
      {"    certificate-authority-data: abc\n", "    token: t\n", "has no server"},
      {"    server: https://k\n    certificate-authority-data: \"***\"\n", "    token: t\n", "base64"},
      {"    server: https://k\n    certificate-authority: /nonexistent/ca.crt\n", "    token: t\n", "/nonexistent/ca.crt"},
      {"    server: https://k\n", "    client-certificate-data: a2V5\n", "client-key"},
      {"    server: https://k\n", "    tokenFile: /nonexistent/token\n", "tokenFile"},
      {"    server: [a, b]\n", "    token: t\n", "server must be a string"},
      {"    server: https://k\n", "    token: \"a\\r\\nb\"\n", "token"},
  };
  for (const auto& c : cases) {
    const auto r = parseKubeconfig(kubeconfig(c.cluster, c.user), "");
    EXPECT_EQ(r.status, KubeConfigStatus::Invalid) << c.cluster << c.user;
    EXPECT_THAT(r.reason, HasSubstr(c.expected)) << c.cluster << c.user;
    EXPECT_THAT(r.reason, ::testing::Not(HasSubstr("secret")));
  }
}

TEST(Kubeconfig, InsecureSkipTlsVerifyFalseIsFine) {
  const auto r = parseKubeconfig(kubeconfig("    server: https://k\n    insecure-skip-tls-verify: false\n", "    token: t\n"), "");
  EXPECT_TRUE(r.ok()) << r.reason;
}

TEST(Kubeconfig, StructuralErrors) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "not a kubeconfig"},
      {"- a\n- b\n", "not a kubeconfig"},
      {"current-context: [x\n", "kubeconfig"},
      {"clusters: []\n", "current-context is not set"},
      {"current-context: ctx\n", "contexts"},
      {"current-context: ctx\ncontexts:\n- name: other\n", "no entry named \"ctx\""},
      {"current-context: ctx\ncontexts:\n- name: ctx\n  context: {cluster: c}\nclusters: 5\n", "clusters"},
      {"current-context: ctx\ncontexts:\n- name: ctx\n  context: {user: u}\n", "names no cluster"},
      {"current-context: ctx\ncontexts:\n- name: ctx\n  context: [1]\n", "must be a map"},
  };
  for (const auto& [text, expected] : cases) {
    const auto r = parseKubeconfig(text, "");
    EXPECT_EQ(r.status, KubeConfigStatus::Invalid) << text;
    EXPECT_THAT(r.reason, HasSubstr(expected)) << text;
  }
}

TEST(Kubeconfig, MissingFileIsInvalidNotNotConfigured) {
  const auto r = loadKubeConnection("/nonexistent/kubeconfig");
  EXPECT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("/nonexistent/kubeconfig"));
}

TEST(Kubeconfig, RefusesHugeFiles) {
  const auto r = parseKubeconfig(std::string((1 << 20) + 1, '#'), "");
  EXPECT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("1 MiB"));
}

// Issue 19, item 5: a FIFO without a writer blocked open(2) and with it the event loop.
TEST(Kubeconfig, AFifoIsRefusedWithoutBlocking) {
  testing::TempDir dir;
  const std::string fifo = dir.file("kubeconfig");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = loadKubeConnection(fifo);
  EXPECT_EQ(r.status, KubeConfigStatus::Invalid);
  EXPECT_THAT(r.reason, HasSubstr("FIFO"));
}

TEST_F(InClusterTest, AFifoAsTheNamespaceFileIsNotRead) {
  std::filesystem::remove(dir.file("namespace"));
  ASSERT_EQ(::mkfifo(dir.file("namespace").c_str(), 0600), 0);
  const auto r = loadInClusterConnection(environment());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.connection->ns, "");
}

TEST(Base64, DecodesAndRejects) {
  EXPECT_EQ(decodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(decodeBase64("aGVs\nbG8h"), "hello!");
  EXPECT_EQ(decodeBase64(""), "");
  EXPECT_FALSE(decodeBase64("aGVsbG8"));    // length not a multiple of 4
  EXPECT_FALSE(decodeBase64("aGV*bG8="));   // bad character
  EXPECT_FALSE(decodeBase64("aG=sbG8="));   // data after padding
  EXPECT_FALSE(decodeBase64("a==="));
}

}  // namespace
}  // namespace aksnode
