#include "probes/disk/file_system_impl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>
#include <vector>

#include "agent/core/input_file.h"
#include "probes/disk/directory_usage.h"

namespace aksnode::disk {

namespace {

// Closes on scope exit; the write probe checks close() of the written file explicitly
// (network and some local filesystems report write-back errors there).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// A system call that returned non-zero leaves its errno in out.error; true then.
template <class Out>
bool failed(int rc, Out& out) {
  if (rc == 0) return false;
  out.error = errno;
  return true;
}

std::uint64_t fnv1a(const unsigned char* data, std::size_t size) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Random content, so a stale block or a zero-filled page can never pass the comparison.
std::vector<unsigned char> randomBytes(std::size_t size) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::vector<unsigned char> bytes(size);
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = engine();
    std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return bytes;
}

int writeAll(int fd, const unsigned char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// Reads until `size` bytes or end of file; `got` is how many arrived.
int readAll(int fd, unsigned char* data, std::size_t size, std::size_t& got) {
  got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, data + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

std::string errnoName(int error) {
  const char* name = ::strerrorname_np(error);
  return name ? std::string(name) : "errno " + std::to_string(error);
}

std::string describeErrno(int error) {
  const char* text = ::strerrordesc_np(error);
  return errnoName(error) + " (" + (text ? text : "unknown error") + ")";
}

TextFile readSmallFile(const std::string& path, std::size_t maxBytes) {
  // A FIFO or device in place of a /proc or /sys file must not hang the probe thread (the open
  // of a FIFO waits for a writer) or feed it endless bytes: readInputFile refuses them.
  InputFile input = readInputFile(path, maxBytes);
  TextFile file;
  switch (input.status) {
    case InputFile::Status::Read:
      file.text = std::move(input.text);
      break;
    case InputFile::Status::TooLarge:
      file.error = EFBIG;
      break;
    case InputFile::Status::NotRegular:
      file.error = input.errnoValue != 0 ? input.errnoValue : EINVAL;
      break;
    case InputFile::Status::Missing:
    case InputFile::Status::Unreadable:
      file.error = input.errnoValue;
      break;
  }
  return file;
}

PathInfo PosixFileSystem::stat(const std::string& path) {
  PathInfo info;
  struct stat st {};
  if (failed(::stat(path.c_str(), &st), info)) return info;
  info.isDirectory = S_ISDIR(st.st_mode);
  info.device = st.st_dev;
  std::error_code ec;
  auto canonical = std::filesystem::canonical(path, ec);
  if (!ec) info.canonicalPath = canonical.string();
  return info;
}

FsStats PosixFileSystem::statvfs(const std::string& path) {
  FsStats stats;
  struct statvfs vfs {};
  if (failed(::statvfs(path.c_str(), &vfs), stats)) return stats;
  stats.fragmentSize = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
  stats.blocks = vfs.f_blocks;
  stats.blocksAvailable = vfs.f_bavail;
  stats.files = vfs.f_files;
  stats.filesAvailable = vfs.f_favail;
  stats.readOnly = (vfs.f_flag & ST_RDONLY) != 0;
  return stats;
}

WriteProbeResult PosixFileSystem::writeProbe(const std::string& directory,
                                             const std::string& fileName, std::size_t size) {
  WriteProbeResult result;
  const std::string path = directory + "/" + fileName;
  auto fail = [&](const char* stage, int error) {
    result.stage = stage;
    result.error = error;
    return result;
  };
  const auto written = randomBytes(size);

  Fd out(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (out.get() < 0) return fail("open", errno);
  // From here on the file exists: remove it whatever happens next.
  struct Unlinker {
    const std::string& path;
    bool armed = true;
    ~Unlinker() {
      if (armed) ::unlink(path.c_str());
    }
  } unlinker{path};

  if (int error = writeAll(out.get(), written.data(), written.size())) return fail("write", error);
  if (::fsync(out.get()) != 0) return fail("fsync", errno);
  if (::close(out.release()) != 0) return fail("close", errno);

  // O_NOFOLLOW|O_NONBLOCK: the directory is shared; whatever replaced the file between close
  // and open (a symlink, a FIFO) must not be followed or waited for.
  Fd in(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (in.get() < 0) return fail("read", errno);
  // The pages are clean after fsync; dropping them makes the read-back come from the device
  // (best effort: tmpfs and some filesystems ignore it).
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_DONTNEED);
  std::vector<unsigned char> readBack(size);
  std::size_t got = 0;
  if (int error = readAll(in.get(), readBack.data(), readBack.size(), got)) {
    return fail("read", error);
  }
  result.bytes = got;
  if (got != size || fnv1a(readBack.data(), got) != fnv1a(written.data(), size)) {
    result.checksumMismatch = true;
    result.stage = "verify";
  }
  unlinker.armed = false;
  if (::unlink(path.c_str()) != 0) return fail("unlink", errno);
  return result;
}

TextFile PosixFileSystem::readMountInfo() {
  return readSmallFile(paths_.mountInfo, kMaxMountInfoBytes);
}

TextFile PosixFileSystem::readBlockDeviceStat(const std::string& majorMinor) {
  return readSmallFile(paths_.sysDevBlock + "/" + majorMinor + "/stat", 4096);
}

UsageResult PosixFileSystem::directoryUsage(const std::string& directory,
                                            const UsageLimits& limits) {
  return measureDirectoryUsage(directory, limits);
}

}  // namespace aksnode::disk
