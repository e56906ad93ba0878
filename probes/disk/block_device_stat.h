#pragma once
// I/O pressure of the device under a disk, from /sys/dev/block/<major:minor>/stat
// (Documentation/block/stat.rst): requests in flight now, and the share of wall time the
// device was busy between two probes (io_ticks delta, like iostat's %util).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "agent/core/time_source.h"

namespace aksnode::disk {

struct BlockDeviceStat {
  std::uint64_t inFlight = 0;   // field 9
  std::uint64_t ioTicksMs = 0;  // field 10: milliseconds with at least one request in flight
};

// nullopt unless the text has at least the 11 fields every kernel since 2.6 writes.
std::optional<BlockDeviceStat> parseBlockDeviceStat(std::string_view text);

// Busy share in [0, 1] between two samples taken `elapsed` apart; nullopt when it cannot be
// told (no time passed, counters went backwards after a device reset).
std::optional<double> ioUtilization(const BlockDeviceStat& before, const BlockDeviceStat& after,
                                    std::chrono::nanoseconds elapsed);

}  // namespace aksnode::disk
