#include "agent/notify/webhook_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "agent/config/validators.h"
#include "agent/core/input_file.h"
#include "agent/core/secret_redaction.h"

namespace aksnode {

namespace {

// The part of a URL that carries a webhook's credential: the path and query
// ("/services/T000/B000/XXXX", "/workflows/…/invoke?…&sig=…").
std::string credentialPart(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::string(url);
  return std::string(parsed->encoded_target());
}

void replaceAll(std::string& text, std::string_view what) {
  if (what.empty()) return;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at)) {
    text.replace(at, what.size(), "[redacted]");
    at += 10;
  }
}

std::string trimmed(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

Result<std::string> resolveWebhookUrl(const WebhookConfig& config) {
  using Out = Result<std::string>;
  std::string url = config.url;
  if (url.empty()) {
    if (config.urlFile.empty()) {
      return Out::failure("neither url nor urlFile is set");
    }
    InputFile file = readInputFile(config.urlFile, kMaxWebhookUrlFileBytes);
    if (file.status == InputFile::Status::TooLarge) {
      return Out::failure("urlFile " + config.urlFile + " is larger than 8 KiB");
    }
    if (!file.ok()) {
      return Out::failure("cannot read urlFile " + config.urlFile + ": " + file.error);
    }
    url = trimmed(file.text);
    if (url.find_first_of("\r\n") != std::string::npos) {
      return Out::failure("urlFile " + config.urlFile + " holds more than one line");
    }
  }
  // Register before checking: an error path below must not be the one that leaks it.
  const std::string secret = credentialPart(url);
  if (secret.size() >= secrets::kMinSecretLength) secrets::remember("webhook:" + config.name, secret);
  if (const auto checked = checkHttpUrl(url, HttpUrlRules{.allowPath = true, .allowQuery = true}); !checked) {
    return Out::failure((config.url.empty() ? "urlFile " + config.urlFile + " does not hold an http(s) URL (" :
                                      std::string("url is not an http(s) URL (")) + checked.error() + ")");
  }
  return Out::success(std::move(url));
}

std::string scrubUrl(std::string_view text, std::string_view url) {
  std::string out(text);
  replaceAll(out, url);
  const std::string target = credentialPart(url);
  if (target.size() > 1) replaceAll(out, target);  // "/" alone is no secret
  return out;
}

}  // namespace aksnode
