#pragma once
// One problem found in a configuration: where (a key path) and what.
#include <string>

namespace aksnode {

struct ConfigError {
  std::string path;     // key path like "disks[1].minFreeRatio"; "" for the document as a whole
  std::string message;  // "expected a number between 0 and 1, got \"2\""
  // "path: message", or just the message when there is no path.
  std::string toString() const { return path.empty() ? message : path + ": " + message; }
  bool operator==(const ConfigError&) const = default;
};

}  // namespace aksnode
