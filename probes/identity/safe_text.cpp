#include "probes/identity/safe_text.h"

#include <chrono>
#include <vector>

#include "agent/http/http_date.h"

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

std::string rfc3339(long long unixSeconds) {
  // Years 0 to 9999 (what RFC 3339 can write); a claim beyond that is shown as its number.
  if (unixSeconds < -62'167'219'200LL || unixSeconds > 253'402'300'799LL) return std::to_string(unixSeconds);
  return formatRfc3339(std::chrono::sys_seconds{std::chrono::seconds{unixSeconds}});
}

}  // namespace aksnode::identity
