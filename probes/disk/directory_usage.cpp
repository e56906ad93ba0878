#include "probes/disk/directory_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace aksnode::disk {

namespace {

// How often the time budget is polled; a clock read per entry would dominate small files.
constexpr std::uint64_t kTimeCheckEvery = 256;

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

std::uint64_t allocatedBytes(const struct stat& st) {
  return st.st_blocks < 0 ? 0 : static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace

UsageResult measureDirectoryUsage(const std::string& directory, const UsageLimits& limits) {
  UsageResult result;
  struct stat root {};
  if (::lstat(directory.c_str(), &root) != 0) {
    result.error = errno;
    return result;
  }
  if (!S_ISDIR(root.st_mode)) {
    result.error = ENOTDIR;
    return result;
  }
  result.bytes = allocatedBytes(root);
  const dev_t device = root.st_dev;
  std::set<std::pair<dev_t, ino_t>> hardLinksSeen;
  std::vector<std::string> pending{directory};

  auto stop = [&](const char* why) {
    result.partial = true;
    result.stoppedBy = why;
  };

  while (!pending.empty() && result.stoppedBy.empty()) {
    std::string current = std::move(pending.back());
    pending.pop_back();
    int fd = ::open(current.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      ++result.unreadable;
      continue;
    }
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
    if (!dir) {
      ::close(fd);
      ++result.unreadable;
      continue;
    }
    while (true) {
      errno = 0;
      const dirent* entry = ::readdir(dir.get());
      if (entry == nullptr) {
        if (errno != 0) ++result.unreadable;
        break;
      }
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      if (result.entries >= limits.maxEntries) {
        stop("maxEntries");
        break;
      }
      ++result.entries;
      if (result.entries % kTimeCheckEvery == 0 && limits.outOfTime()) {
        stop("timeBudget");
        break;
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) ++result.unreadable;  // ENOENT: removed while we walk, not an error
        continue;
      }
      if (st.st_dev != device) continue;  // a mount point: another filesystem's space
      if (S_ISDIR(st.st_mode)) {
        result.bytes += allocatedBytes(st);
        pending.push_back(current + "/" + entry->d_name);
        continue;
      }
      if (st.st_nlink > 1 && !hardLinksSeen.emplace(st.st_dev, st.st_ino).second) continue;
      result.bytes += allocatedBytes(st);
    }
    // Between directories as well: a tree of many small directories never reaches the
    // per-entry check.
    if (result.stoppedBy.empty() && !pending.empty() && limits.outOfTime()) stop("timeBudget");
  }
  if (result.unreadable > 0) result.partial = true;
  return result;
}

}  // namespace aksnode::disk
