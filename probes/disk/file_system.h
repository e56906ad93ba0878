#pragma once
// The I/O seam of the disk and cache probes: every blocking system call they make goes through
// this interface, so tests can simulate a full, read-only, failing or hung filesystem.
// Every method blocks and is called on a probe worker thread, never on the event loop.
// Implementations must be safe to call from several worker threads at once (one per path).
#include <cstdint>
#include <functional>
#include <string>

namespace aksnode::disk {

// stat(2) of the configured path, following symlinks, plus its canonical form.
struct PathInfo {
  int error = 0;  // errno of stat (ENOENT = missing); 0 on success
  bool isDirectory = false;
  std::uint64_t device = 0;   // st_dev
  std::string canonicalPath;  // realpath; empty if it failed
};

// statvfs(3).
struct FsStats {
  int error = 0;
  std::uint64_t fragmentSize = 0;     // f_frsize: the unit of the block counts
  std::uint64_t blocks = 0;           // f_blocks
  std::uint64_t blocksAvailable = 0;  // f_bavail: free for unprivileged users
  std::uint64_t files = 0;            // f_files; 0 on filesystems without an inode table (btrfs)
  std::uint64_t filesAvailable = 0;   // f_favail
  bool readOnly = false;              // ST_RDONLY in f_flag
};

// A small file written, fsync'ed, read back and removed.
struct WriteProbeResult {
  int error = 0;                  // errno of the step that failed; 0 when every step succeeded
  std::string stage;              // the failing step: open, write, fsync, close, read, unlink
  bool checksumMismatch = false;  // read-back differs from what was written (error stays 0)
  std::uint64_t bytes = 0;
  bool ok() const { return error == 0 && !checksumMismatch; }
};

struct TextFile {
  int error = 0;
  std::string text;
};

// Bytes allocated under a directory tree (st_blocks * 512), bounded in entries and time.
struct UsageLimits {
  std::uint64_t maxEntries = 200'000;
  // Polled every few hundred entries; true = stop now and report a partial result.
  std::function<bool()> outOfTime = [] { return false; };
};
struct UsageResult {
  int error = 0;  // errno for the root directory itself
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;     // directory entries looked at
  std::uint64_t unreadable = 0;  // subdirectories or entries that could not be read
  bool partial = false;          // limits hit or entries unreadable: bytes is a lower bound
  std::string stoppedBy;         // "maxEntries", "timeBudget" or "" (finished)
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual PathInfo stat(const std::string& path) = 0;
  virtual FsStats statvfs(const std::string& path) = 0;
  // Creates `<directory>/<fileName>` with O_CREAT|O_EXCL, writes `size` random bytes, fsyncs,
  // reads them back (bypassing the page cache where the kernel allows), compares checksums and
  // unlinks the file, also after a failure.
  virtual WriteProbeResult writeProbe(const std::string& directory, const std::string& fileName,
                                      std::size_t size) = 0;
  virtual TextFile readMountInfo() = 0;
  // /sys/dev/block/<major:minor>/stat (also exists for partitions).
  virtual TextFile readBlockDeviceStat(const std::string& majorMinor) = 0;
  // Does not follow symlinks and does not cross into other filesystems.
  virtual UsageResult directoryUsage(const std::string& directory, const UsageLimits& limits) = 0;
};

// "EIO (Input/output error)"; for messages and details.
std::string describeErrno(int error);
// "EIO"; the symbolic name, or "errno 123" when unknown.
std::string errnoName(int error);

}  // namespace aksnode::disk
