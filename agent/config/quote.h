#pragma once
// Quoting untrusted text for error messages: bounded length, control bytes escaped, so a hostile
// config value cannot flood or forge log lines.
#include <string>
#include <string_view>

namespace aksnode {

// "value" in double quotes, at most maxChars characters of it (then "..."), with quotes,
// backslashes and bytes outside printable ASCII written as \" \\ \xNN.
std::string quoteForMessage(std::string_view text, std::size_t maxChars = 64);

}  // namespace aksnode
