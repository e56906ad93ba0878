#pragma once
// The API server bearer token. Bound service account tokens rotate (the kubelet rewrites the
// projected file well before expiry), so a token file is re-read at least every
// `refreshInterval` and right after a 401. A failed or empty read keeps the last good token.
// The token is never logged.
#include <chrono>
#include <string>

#include "agent/core/time_source.h"

namespace aksnode {

class BearerToken {
 public:
  static constexpr std::size_t kMaxFileSize = 64 * 1024;

  // `tokenFile` "" = the fixed `initialToken` only (kubeconfig `token:`). With a file,
  // `initialToken` is used until the first successful read (client-go does the same).
  BearerToken(std::string initialToken, std::string tokenFile, const TimeSource& time,
              std::chrono::seconds refreshInterval = std::chrono::seconds{60});

  // The token to send now ("" = none); re-reads the file when the last read is too old.
  const std::string& current();
  // Re-reads the file now (after a 401). Returns true when the token changed.
  bool reload();

  const std::string& file() const { return file_; }
  bool lastReadFailed() const { return lastReadFailed_; }

 private:
  bool readFile();  // true when the token changed

  std::string token_;
  std::string file_;
  const TimeSource& time_;
  std::chrono::seconds refreshInterval_;
  MonotonicTime lastRead_{};
  bool readOnce_ = false;
  bool lastReadFailed_ = false;
};

// A token is sent as an HTTP header: reject anything but printable ASCII (no CR/LF injection).
bool isValidBearerToken(std::string_view token);

}  // namespace aksnode
