// secrets::redactSecrets: a credential the agent holds never survives in outside text, whole,
// cut short, wrapped over lines or split by spaces (arch/FAULTS.md, "Attacks on the running binary").
#include "agent/core/secret_redaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/core/logging.h"

namespace aksnode::secrets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A realistic service-account token: header.payload.signature, base64url.
const std::string kToken =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjRkZjQ1YWQ0YjA5ZCJ9."
    "eyJhdWQiOlsiaHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3ZjIl0sInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTphZ2VudCJ9."
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo";

struct RedactionTest : ::testing::Test {
  void SetUp() override {
    forgetAllForTests();
    remember("kube-token", kToken);
  }
  void TearDown() override { forgetAllForTests(); }
};

TEST_F(RedactionTest, WholeToken) {
  const std::string out = redactSecrets("401: Authorization: Bearer " + kToken + " rejected");
  EXPECT_EQ(out, "401: Authorization: Bearer [redacted] rejected");
}

TEST_F(RedactionTest, SplitByCrLfAndSpaces) {
  std::string wrapped, spaced;
  for (std::size_t i = 0; i < kToken.size(); i += 40) {
    wrapped += kToken.substr(i, 40) + "\r\n";
    spaced += kToken.substr(i, 40) + " ";
  }
  for (const std::string& text : {wrapped, spaced, "Bearer\t" + kToken.substr(0, 70) + "\n\n" + kToken.substr(70)}) {
    const std::string out = redactSecrets("echo: " + text + "end");
    EXPECT_THAT(out, HasSubstr("[redacted]")) << out;
    EXPECT_FALSE(containsSecret(out)) << out;
    EXPECT_THAT(out, HasSubstr("echo: ")) << "text around the secret stays";
  }
}

TEST_F(RedactionTest, ATokenCutShortOrOnlyItsSignature) {
  const std::string signature = kToken.substr(kToken.rfind('.') + 1);
  for (const std::string& part : {kToken.substr(0, 120), signature, kToken.substr(30, 16)}) {
    const std::string out = redactSecrets("message: " + part + "...");
    EXPECT_EQ(out, "message: [redacted]...") << part;
  }
}

TEST_F(RedactionTest, OrdinaryTextIsUntouched) {
  const std::string text = "PATCH node aks-spot-1: HTTP 409 Operation cannot be fulfilled; retrying in 250ms";
  EXPECT_EQ(redactSecrets(text), text);
  EXPECT_FALSE(containsSecret(text));
}

TEST_F(RedactionTest, RotatedTokensStayRedactedAndShortValuesAreIgnored) {
  const std::string next = "second-token-value-0123456789abcdef";
  remember("kube-token", next);
  EXPECT_EQ(redactSecrets(kToken + " " + next), "[redacted]");
  remember("kube-token", "short");  // not a credential the agent could hold
  EXPECT_EQ(redactSecrets("a short word"), "a short word");
}

}  // namespace
}  // namespace aksnode::secrets
