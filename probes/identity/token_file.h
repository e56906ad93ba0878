#pragma once
// Reading the projected token file. It lives on a tmpfs the kubelet swaps atomically
// (..data symlink), so a read is small and quick; still, the path comes from the
// environment and could name a FIFO or a device, so the read never blocks and never
// takes more than kMaxTokenBytes.
#include <cstddef>
#include <string>

#include "probes/identity/jwt.h"

namespace aksnode::identity {

// Not a Result<std::string>: the caller needs the Status (Missing, Unreadable and TooLarge
// become different reasons) and the path on failure too.
struct TokenFile {
  enum class Status {
    Read,        // text holds the content
    Missing,     // ENOENT/ENOTDIR, or no path configured
    Unreadable,  // permission, not a regular file, I/O error
    TooLarge,    // more than the limit
  };
  Status status = Status::Missing;
  std::string path;
  std::string text;   // secret: the token; never log it
  std::string error;  // strerror-style cause for Missing/Unreadable/TooLarge
};

// O_RDONLY|O_NONBLOCK|O_CLOEXEC, fstat must say regular file, reads at most limit+1 bytes.
// Symlinks are followed on purpose: the projected volume is built from them.
TokenFile readTokenFile(const std::string& path, std::size_t limit = kMaxTokenBytes);

}  // namespace aksnode::identity
