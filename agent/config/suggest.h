#pragma once
// "did you mean ...?" for unknown configuration keys.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aksnode {

// Edit distance (insert, delete, substitute, swap two neighbours), ignoring ASCII case.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to word, if close enough to be a plausible typo: at most 1 edit for
// words up to 3 characters, 2 up to 6, else 3. Ties go to the earlier candidate.
std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace aksnode
