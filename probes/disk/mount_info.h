#pragma once
// /proc/self/mountinfo (proc(5)): which mount a path lives on, its device, filesystem type and
// options. The text comes from the kernel but is treated as untrusted anyway: malformed lines
// are skipped, never fatal.
//
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2) (3)   (4)   (5)          (6)        (7)   (8) (9)    (10)      (11)
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aksnode::disk {

struct MountEntry {
  long mountId = 0;
  long parentId = 0;
  std::string majorMinor;  // "8:17"; major 0 = no block device (tmpfs, overlay, ...)
  std::string root;        // the part of the filesystem that is mounted (bind mounts)
  std::string mountPoint;  // unescaped
  std::string mountOptions;
  std::vector<std::string> optionalFields;  // shared:N, master:N, propagate_from:N, unbindable
  std::string fsType;
  std::string source;  // device, e.g. /dev/sdb1; "none" when the kernel has none
  std::string superOptions;
};

// Undoes the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).
// A backslash not followed by three octal digits is kept as is.
std::string unescapeMountField(std::string_view field);

// One line; nullopt when it does not have the documented shape.
std::optional<MountEntry> parseMountInfoLine(std::string_view line);
// Every well-formed line, in file order (later entries are mounted on top of earlier ones).
std::vector<MountEntry> parseMountInfo(std::string_view text);

// The mount that contains `canonicalPath` (absolute, no symlinks, no trailing slash): the
// longest mount point that is a path prefix of it; of equal ones the last (the top of an
// over-mount). nullptr when none matches (not even "/").
const MountEntry* findMountFor(const std::vector<MountEntry>& mounts,
                               std::string_view canonicalPath);

// `option` is one of the comma-separated entries of `options` (exact match, "ro" != "rox").
bool hasMountOption(std::string_view options, std::string_view option);
// Read-only per mount or superblock options: "ro", or "emergency_ro" (ext4 after an error).
bool mountIsReadOnly(const MountEntry& mount);

}  // namespace aksnode::disk
