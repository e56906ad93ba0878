#include "probes/identity/base64url.h"

#include <gtest/gtest.h>

namespace aksnode::identity {
namespace {

struct DecodeCase {
  const char* name;
  std::string input;
  std::optional<std::string> expected;  // nullopt = must be rejected
};
// gtest prints the case by name, not as a byte dump.
inline void PrintTo(const DecodeCase& c, std::ostream* os) { *os << c.name; }

class Base64UrlDecode : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(Base64UrlDecode, DecodesOrRejects) {
  const auto& c = GetParam();
  EXPECT_EQ(base64UrlDecode(c.input), c.expected) << c.name;
}

std::string paramName(const ::testing::TestParamInfo<DecodeCase>& param) {
  std::string n = param.param.name;
  for (char& c : n) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    EdgeCases, Base64UrlDecode,
    ::testing::Values(
        DecodeCase{"empty", "", std::string()},
        DecodeCase{"one byte unpadded", "Zg", std::string("f")},
        DecodeCase{"two bytes unpadded", "Zm8", std::string("fo")},
        DecodeCase{"three bytes", "Zm9v", std::string("foo")},
        DecodeCase{"one byte padded", "Zg==", std::string("f")},
        DecodeCase{"two bytes padded", "Zm8=", std::string("fo")},
        DecodeCase{"url alphabet - and _", "-_-_", std::string("\xfb\xff\xbf", 3)},
        DecodeCase{"all byte values round trip seed", "AAEC", std::string("\x00\x01\x02", 3)},
        // Rejections.
        DecodeCase{"standard alphabet plus", "+/+/", std::nullopt},
        DecodeCase{"standard alphabet slash", "ab/c", std::nullopt},
        DecodeCase{"space inside", "Zm 9v", std::nullopt},
        DecodeCase{"newline at end", "Zm9v\n", std::nullopt},
        DecodeCase{"NUL byte", std::string("Zm\0v", 4), std::nullopt},
        DecodeCase{"non-ASCII", "Zm9v\xc3\xa9", std::nullopt},
        DecodeCase{"4n+1 length", "Zm9vY", std::nullopt},
        DecodeCase{"single char", "Z", std::nullopt},
        DecodeCase{"three padding chars", "Z===", std::nullopt},
        DecodeCase{"padding on unaligned length", "Zg=", std::nullopt},
        DecodeCase{"too much padding for data", "Zm8==", std::nullopt},
        DecodeCase{"padding where none is needed", "Zm9v====", std::nullopt},
        DecodeCase{"padding in the middle", "Zg==Zm9v", std::nullopt},
        DecodeCase{"only padding", "====", std::nullopt},
        DecodeCase{"non-zero trailing bits (2 chars)", "Zh", std::nullopt},
        DecodeCase{"non-zero trailing bits (3 chars)", "Zm9", std::nullopt},
        DecodeCase{"wrong padding amount", "Zm9=", std::nullopt}),
    paramName);

TEST(Base64Url, EncodeIsUnpaddedAndRoundTripsEveryLength) {
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>((i * 73 + 11) & 0xFF));
    const std::string encoded = base64UrlEncode(bytes);
    ASSERT_EQ(encoded.find_first_of("+/="), std::string::npos);
    ASSERT_EQ(base64UrlDecode(encoded), bytes) << "length " << bytes.size();
  }
}

}  // namespace
}  // namespace aksnode::identity
