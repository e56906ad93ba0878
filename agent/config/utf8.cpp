#include "agent/config/utf8.h"

#include <cstdint>

namespace aksnode {

bool isCleanText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t codePoint = 0;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      codePoint = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      codePoint = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      codePoint = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xc0) != 0x80) return false;
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    // Overlong forms, surrogates, beyond Unicode, C1 controls.
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codePoint < kMinimum[length] || (codePoint >= 0xd800 && codePoint <= 0xdfff) ||
        codePoint > 0x10ffff || (codePoint >= 0x80 && codePoint <= 0x9f)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace aksnode
