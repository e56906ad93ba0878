#pragma once
// The one check for configuration text: well-formed UTF-8 (no overlong forms, surrogates or
// code points beyond U+10FFFF) without control characters (C0, DEL, C1).
#include <string_view>

namespace aksnode {

// Valid UTF-8 without control characters: what a configuration string (or key) may hold.
bool isCleanText(std::string_view text);

}  // namespace aksnode
