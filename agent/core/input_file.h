#pragma once
// Reading a small input file (config, kubeconfig, tokens, CA and client certificates, /proc
// and /sys files) without ever blocking the single event-loop thread.
//
// A path that names a FIFO, a character or block device or a socket is refused before any
// read: open(2) of a FIFO without a writer blocks forever (and with O_NONBLOCK a read returns
// nothing, which would look like an empty file), a device can produce endless data or block.
// The file is opened O_NONBLOCK|O_NOCTTY so that the open itself never waits, fstat(2) decides,
// and at most `limit` bytes are read (one more to tell "exactly at the limit" from "larger").
#include <cstddef>
#include <string>

namespace aksnode {

struct InputFile {
  enum class Status { Read, Missing, Unreadable, NotRegular, TooLarge };
  Status status = Status::Unreadable;
  std::string text;   // the content when Read
  std::string error;  // why not, for a message: "is a FIFO", "No such file or directory", ...
  int errnoValue = 0; // the errno behind Missing/Unreadable, 0 otherwise
  bool ok() const { return status == Status::Read; }
};

InputFile readInputFile(const std::string& path, std::size_t limit);

// "is a FIFO", "is a directory", ... for st_mode of a file that is not regular.
std::string describeFileType(unsigned mode);

}  // namespace aksnode
