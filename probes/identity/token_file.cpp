#include "probes/identity/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aksnode::identity {

namespace {

// Closes the descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace

TokenFile readTokenFile(const std::string& path, std::size_t limit) {
  TokenFile file;
  file.path = path;
  if (path.empty()) {
    file.status = TokenFile::Status::Missing;
    file.error = "no token file configured";
    return file;
  }
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    const int err = errno;
    file.status = (err == ENOENT || err == ENOTDIR) ? TokenFile::Status::Missing
                                                    : TokenFile::Status::Unreadable;
    file.error = errnoText(err);
    return file;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    file.status = TokenFile::Status::Unreadable;
    file.error = errnoText(errno);
    return file;
  }
  if (!S_ISREG(st.st_mode)) {
    file.status = TokenFile::Status::Unreadable;
    file.error = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    return file;
  }
  // Read one byte past the limit to tell "exactly at the limit" from "too large" without
  // trusting st_size (it can change between fstat and read while the kubelet rotates).
  std::string text(limit + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      file.status = TokenFile::Status::Unreadable;
      file.error = errnoText(errno);
      return file;
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > limit) {
    file.status = TokenFile::Status::TooLarge;
    file.error = "larger than " + std::to_string(limit) + " bytes";
    return file;
  }
  text.resize(used);
  file.status = TokenFile::Status::Read;
  file.text = std::move(text);
  return file;
}

}  // namespace aksnode::identity
