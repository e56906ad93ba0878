#include "agent/kube/bearer_token.h"

#include <cerrno>
#include <cstring>
#include <sstream>

#include "agent/core/input_file.h"
#include "agent/core/secret_redaction.h"
#include "agent/core/logging.h"

namespace aksnode {

namespace {

std::string_view trim(std::string_view s) {
  const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool isValidBearerToken(std::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

BearerToken::BearerToken(std::string initialToken, std::string tokenFile, const TimeSource& time,
                         std::chrono::seconds refreshInterval)
    : token_(std::move(initialToken)),
      file_(std::move(tokenFile)),
      time_(time),
      refreshInterval_(refreshInterval) {
  secrets::remember("kube-token", token_);  // never in a log line, /status or /readyz
  if (!file_.empty()) readFile();
}

const std::string& BearerToken::current() {
  if (!file_.empty()) {
    const auto now = time_.monotonicTime();
    // Without any token yet, every request retries the read: the file may appear any moment.
    if (!readOnce_ || token_.empty() || now - lastRead_ >= refreshInterval_) readFile();
  }
  return token_;
}

bool BearerToken::reload() {
  if (file_.empty()) return false;
  return readFile();
}

bool BearerToken::readFile() {
  lastRead_ = time_.monotonicTime();
  readOnce_ = true;
  std::string problem;
  // The token file is rotated by the kubelet; a FIFO or device put in its place must not
  // block the event loop (readInputFile refuses it without reading).
  InputFile file = readInputFile(file_, kMaxFileSize);
  if (file.status == InputFile::Status::TooLarge) {
    problem = "file larger than 64 KiB";
  } else if (!file.ok()) {
    problem = file.error;
  }
  const std::string& content = file.text;
  std::string_view token = trim(content);
  if (problem.empty() && token.empty()) problem = "file is empty";
  if (problem.empty() && !isValidBearerToken(token)) {
    problem = "token contains characters not allowed in an HTTP header";
  }
  if (!problem.empty()) {
    if (!lastReadFailed_) {
      log::warn("cannot read the API server token file; keeping the last good token",
                {{"file", file_}, {"error", problem}, {"haveToken", !token_.empty()}});
    }
    lastReadFailed_ = true;
    return false;
  }
  if (lastReadFailed_) log::info("API server token file readable again", {{"file", file_}});
  lastReadFailed_ = false;
  if (token == token_) return false;
  token_.assign(token);
  secrets::remember("kube-token", token_);
  log::debug("API server token loaded", {{"file", file_}});
  return true;
}

}  // namespace aksnode
