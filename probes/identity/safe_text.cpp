#include "probes/identity/safe_text.h"

#include <vector>

namespace aksnode::identity {

std::string printable(std::string_view text, std::size_t maxBytes) {
  std::string out;
  const bool cut = text.size() > maxBytes;
  const std::size_t n = cut ? maxBytes : text.size();
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (cut) out += "...";
  return out;
}

namespace {
void replaceAll(std::string& text, std::string_view needle) {
  if (needle.empty()) return;
  static constexpr std::string_view kMark = "[redacted]";
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kMark);
    pos += kMark.size();
  }
}
}  // namespace

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  replaceAll(text, secret);
  // The header and payload of a JWT are only base64 of public claims, but the signature
  // part alone would let anyone who also knows the claims rebuild the token.
  std::size_t start = 0;
  while (start <= secret.size()) {
    std::size_t end = secret.find('.', start);
    if (end == std::string_view::npos) end = secret.size();
    if (end - start > 16) replaceAll(text, secret.substr(start, end - start));
    start = end + 1;
  }
  return text;
}

}  // namespace aksnode::identity

#include <ctime>

namespace aksnode::identity {

std::string rfc3339(long long unixSeconds) {
  const auto t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(unixSeconds);
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return std::to_string(unixSeconds);
  return buf;
}

}  // namespace aksnode::identity
