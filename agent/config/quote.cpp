#include "agent/config/quote.h"

namespace aksnode {

std::string quoteForMessage(std::string_view text, std::size_t maxChars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == maxChars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
    ++shown;
  }
  out += '"';
  return out;
}

}  // namespace aksnode
