#include "agent/kube/bearer_token.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/logging.h"

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
  std::string content;
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    problem = std::strerror(errno);
  } else {
    content.resize(kMaxFileSize + 1);
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    content.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) {
      problem = "read error";
    } else if (content.size() > kMaxFileSize) {
      problem = "file larger than 64 KiB";
    }
  }
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
  log::debug("API server token loaded", {{"file", file_}});
  return true;
}

}  // namespace aksnode
