#include "agent/config/config_values.h"

#include <algorithm>
#include <array>
#include <span>

#include "agent/config/scalar_parsers.h"
#include "agent/config/suggest.h"
#include "agent/config/utf8.h"

namespace aksnode::config_reader {

namespace {

// "; did you mean \"X\"?" when text is close to one of names, else otherwise.
std::string hint(std::string_view text, std::span<const std::string_view> names, const std::string& otherwise) {
  if (const auto suggestion = closestMatch(text, names)) return "; did you mean \"" + *suggestion + "\"?";
  return otherwise;
}

// "Preempt, Terminate, Reboot, Redeploy, Freeze"
std::string eventTypeList() {
  std::string list;
  for (std::string_view type : kEventTypeNames) list += (list.empty() ? "" : ", ") + std::string(type);
  return list;
}

std::string eventTypeHint(std::string_view name) {
  return hint(name, kEventTypeNames, "; expected one of " + eventTypeList());
}

std::span<const std::string_view> eventReasonNames() {
  static const auto names = [] {
    std::array<std::string_view, std::size(kEventReasons)> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = kEventReasons[i];
    return out;
  }();
  return names;
}

bool isWebhookName(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(text.front())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-' || c == '_'; });
}

bool isServiceAccountSubject(const std::string& text) {
  // system:serviceaccount:<namespace>:<name>
  static constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (!text.starts_with(kPrefix)) return false;
  const std::string_view rest = std::string_view(text).substr(kPrefix.size());
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  return isDnsLabel(rest.substr(0, colon)) && isDnsSubdomain(rest.substr(colon + 1));
}

}  // namespace

// A path prefix is allowed (a proxy, or the test fake's per-VM /vm/<name> used by the fleet
// benchmark); the agent appends /metadata/..., so a URL that already names /metadata is the
// full URL pasted by mistake.
Result<std::string> imdsEndpoint(const std::string& text) {
  Result<std::string> url = httpUrl({}, "http://169.254.169.254", false)(text);
  if (url && text.find("/metadata") != std::string::npos) {
    return Result<std::string>::failure("expected an http(s) URL like http://169.254.169.254" + got(text) +
                                        " (a path with /metadata is not allowed: the agent appends it)");
  }
  return url;
}

Result<std::string> apiVersion(const std::string& text) {
  const bool ok = !text.empty() && text.size() <= 64 &&
                  text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
                      std::string::npos;
  return textIf(ok, text, "expected an API version like 2020-07-01");
}

Result<EventType> eventTypeKey(const std::string& text) {
  const EventType type = eventTypeFromExactName(text);
  if (type != EventType::Unknown) return Result<EventType>::success(type);
  return Result<EventType>::failure("unknown event type" + eventTypeHint(text));
}

Result<std::string> eventTypeName(const std::string& text) {
  if (eventTypeFromExactName(text) != EventType::Unknown) return Result<std::string>::success(text);
  return Result<std::string>::failure("expected an event type (" + eventTypeList() + ")" + got(text) +
                                      eventTypeHint(text));
}

Result<std::optional<Duration>> gracePeriodCap(const std::string& text) {
  using Out = Result<std::optional<Duration>>;
  if (text.empty()) return Out::success(std::nullopt);
  Result<Duration> parsed = parseDuration(text);
  if (!parsed) return Out::failure(parsed.error() + "; or \"\" for no cap");
  // Pods' grace periods are whole seconds (terminationGracePeriodSeconds).
  if (parsed.value().count() % 1000 != 0) return Out::failure("expected a whole number of seconds like 20s" + got(text));
  // gracePeriodSeconds 0 deletes the pod object at once, containers running or not.
  if (parsed.value() < Duration{1000}) {
    return Out::failure("expected at least 1s (0s would be a force delete); \"\" for no cap" + got(text));
  }
  return Out::success(parsed.value());
}

Result<std::optional<std::uint64_t>> cacheQuota(const std::string& text) {
  using Out = Result<std::optional<std::uint64_t>>;
  if (text.empty()) return Out::success(std::nullopt);
  Result<std::uint64_t> parsed = parseBytes(text);
  if (!parsed) return Out::failure(parsed.error() + "; or \"\" for no quota");
  if (parsed.value() == 0) return Out::failure("expected a byte size greater than 0, or \"\" for no quota" + got(text));
  return Out::success(parsed.value());
}

Result<std::string> webhookName(const std::string& text) {
  return textIf(isWebhookName(text), text,
                "expected a name of letters, digits, '-' and '_' (1 to 63, starting with a letter or digit): it "
                "is a metric label");
}

Result<std::string> webhookUrl(const std::string& text) {
  if (text.empty()) return Result<std::string>::success(text);  // "exactly one of" decides
  if (!isCleanText(text) || text.size() > 4096) {
    return Result<std::string>::failure("expected an http(s) URL of at most 4096 characters (value not shown: "
                                        "a webhook URL is a credential)");
  }
  if (const auto url = checkHttpUrl(text, HttpUrlRules{.allowPath = true, .allowQuery = true}); !url) {
    return Result<std::string>::failure("expected an http(s) URL like https://hooks.slack.com/services/... (" +
                                        url.error() + "; value not shown: a webhook URL is a credential)");
  }
  return Result<std::string>::success(text);
}

Result<std::string> eventReason(const std::string& text) {
  const auto names = eventReasonNames();
  if (std::find(names.begin(), names.end(), text) != names.end()) return Result<std::string>::success(text);
  std::string all = "; one of";
  for (std::string_view name : names) all += " " + std::string(name);
  return Result<std::string>::failure("expected an Event reason" + got(text) + hint(text, names, all));
}

Result<std::string> serviceAccountSubject(const std::string& text) {
  return textIf(text.empty() || isServiceAccountSubject(text), text,
                "expected \"\" or system:serviceaccount:NAMESPACE:NAME");
}

Result<std::string> hostPortText(const std::string& text) {
  Result<HostPort> parsed = parseHostPort(text);
  if (!parsed) return Result<std::string>::failure(parsed.error());
  return Result<std::string>::success(text);
}

}  // namespace aksnode::config_reader
