#include "agent/core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aksnode {

namespace {

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

InputFile failure(InputFile::Status status, std::string error, int err = 0) {
  InputFile f;
  f.status = status;
  f.error = std::move(error);
  f.errnoValue = err;
  return f;
}

}  // namespace

std::string describeFileType(unsigned mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  if (S_ISCHR(mode)) return "is a character device, not a regular file";
  if (S_ISBLK(mode)) return "is a block device, not a regular file";
  return "is not a regular file";
}

InputFile readInputFile(const std::string& path, std::size_t limit) {
  if (path.empty()) return failure(InputFile::Status::Missing, "no file name", ENOENT);
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. (A socket cannot be
  // opened at all: ENXIO, reported as unreadable.)
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));  // NOLINT
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENXIO) return failure(InputFile::Status::NotRegular, "is a socket, not a regular file", err);
    const auto status = (err == ENOENT || err == ENOTDIR) ? InputFile::Status::Missing : InputFile::Status::Unreadable;
    return failure(status, std::strerror(err), err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return failure(InputFile::Status::Unreadable, std::strerror(err), err);
  }
  if (!S_ISREG(st.st_mode)) return failure(InputFile::Status::NotRegular, describeFileType(st.st_mode));
  // A regular file never blocks, O_NONBLOCK or not; st_size is not trusted (a token may be
  // rotated between fstat and read, /proc files report 0).
  InputFile file;
  file.text.resize(limit + 1);
  std::size_t used = 0;
  while (used < file.text.size()) {
    const ssize_t n = ::read(fd.get(), file.text.data() + used, file.text.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return failure(InputFile::Status::Unreadable, std::strerror(err), err);
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > limit) {
    return failure(InputFile::Status::TooLarge, "larger than " + std::to_string(limit) + " bytes");
  }
  file.text.resize(used);
  file.text.shrink_to_fit();
  file.status = InputFile::Status::Read;
  return file;
}

}  // namespace aksnode
