#include "probes/disk/block_device_stat.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace aksnode::disk {

std::optional<BlockDeviceStat> parseBlockDeviceStat(std::string_view text) {
  std::vector<std::uint64_t> fields;
  std::size_t pos = 0;
  while (pos < text.size() && fields.size() < 11) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos >= text.size() || text[pos] == '\n') break;
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
    if (ec != std::errc{}) return std::nullopt;
    fields.push_back(value);
    pos = static_cast<std::size_t>(ptr - text.data());
    if (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n') {
      return std::nullopt;
    }
  }
  if (fields.size() < 11) return std::nullopt;
  return BlockDeviceStat{fields[8], fields[9]};
}

std::optional<double> ioUtilization(const BlockDeviceStat& before, const BlockDeviceStat& after,
                                    std::chrono::nanoseconds elapsed) {
  if (elapsed <= std::chrono::nanoseconds::zero() || after.ioTicksMs < before.ioTicksMs) {
    return std::nullopt;
  }
  double busyMs = static_cast<double>(after.ioTicksMs - before.ioTicksMs);
  double elapsedMs = std::chrono::duration<double, std::milli>(elapsed).count();
  return std::clamp(busyMs / elapsedMs, 0.0, 1.0);
}

}  // namespace aksnode::disk
