#include "probes/identity/token_file.h"

#include "agent/core/input_file.h"

namespace aksnode::identity {

TokenFile readTokenFile(const std::string& path, std::size_t limit) {
  TokenFile file;
  file.path = path;
  if (path.empty()) {
    file.status = TokenFile::Status::Missing;
    file.error = "no token file configured";
    return file;
  }
  // A FIFO, device or socket in place of the token is refused before any read (agent/core/input_file.h).
  InputFile input = readInputFile(path, limit);
  file.error = std::move(input.error);
  switch (input.status) {
    case InputFile::Status::Read:
      file.status = TokenFile::Status::Read;
      file.text = std::move(input.text);
      break;
    case InputFile::Status::Missing:
      file.status = TokenFile::Status::Missing;
      break;
    case InputFile::Status::Unreadable:
    case InputFile::Status::NotRegular:
      file.status = TokenFile::Status::Unreadable;
      break;
    case InputFile::Status::TooLarge:
      file.status = TokenFile::Status::TooLarge;
      break;
  }
  return file;
}

}  // namespace aksnode::identity
