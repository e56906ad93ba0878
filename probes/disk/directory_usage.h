#pragma once
// du -sx for the cache probe, bounded: a cache of millions of small files must not keep a
// probe thread busy for minutes, so the walk stops at a number of entries or when out of time
// and says the total is partial.
#include <string>

#include "probes/disk/file_system.h"

namespace aksnode::disk {

// Sums st_blocks * 512 of every entry under `directory` (the directory itself included),
// without following symlinks, without descending into other filesystems (mount points are
// skipped) and counting hard-linked files once. Iterative: deep trees cannot overflow the stack.
UsageResult measureDirectoryUsage(const std::string& directory, const UsageLimits& limits);

}  // namespace aksnode::disk
