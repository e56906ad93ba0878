#include "agent/config/config_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <unordered_set>

#include "agent/config/duration.h"
#include "agent/config/quote.h"
#include "agent/config/suggest.h"
#include "agent/config/validators.h"
#include "agent/input_file.h"

namespace aksnode {

std::string ConfigError::toString() const { return path.empty() ? message : path + ": " + message; }

std::string ConfigLoadResult::errorText() const {
  std::string text;
  for (const ConfigError& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.toString();
  }
  return text;
}

namespace {

using YAML::Node;

// At most this many disks or caches: each becomes metric series and a probe every interval.
constexpr std::size_t kMaxListEntries = 100;

bool isCleanText(std::string_view text);

// A key as it appears in a path: as written when short and printable, else quoted, escaped and
// cut short (a key is untrusted text that ends up in messages and logs).
std::string displayKey(std::string_view key) {
  if (!key.empty() && key.size() <= 64 && isCleanText(key)) return std::string(key);
  return quoteForMessage(key);
}

std::string childPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? displayKey(key) : parent + "." + displayKey(key);
}
std::string indexPath(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

const char* describe(const Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing";
  return "a scalar";
}

// Valid UTF-8 without control characters: what a configuration string may hold.
bool isCleanText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t codePoint = 0;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      codePoint = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      codePoint = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      codePoint = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xc0) != 0x80) return false;
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    // Overlong forms, surrogates, beyond Unicode, C1 controls.
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codePoint < kMinimum[length] || (codePoint >= 0xd800 && codePoint <= 0xdfff) ||
        codePoint > 0x10ffff || (codePoint >= 0x80 && codePoint <= 0x9f)) {
      return false;
    }
    i += length;
  }
  return true;
}

// ---- scalar parsers: expanded text -> value, or the message after "path: " ----

std::string got(const std::string& text) { return ", got " + quoteForMessage(text); }

Result<std::string> anyText(const std::string& text) {
  if (!isCleanText(text)) {
    return Result<std::string>::failure("expected UTF-8 text without control characters" + got(text));
  }
  return Result<std::string>::success(text);
}

Result<bool> parseBool(const std::string& text) {
  // YAML 1.2 core schema booleans; YAML 1.1's yes/no/on/off are ambiguous and refused.
  if (text == "true" || text == "True" || text == "TRUE") return Result<bool>::success(true);
  if (text == "false" || text == "False" || text == "FALSE") return Result<bool>::success(false);
  return Result<bool>::failure("expected true or false" + got(text));
}

auto integerIn(long long min, long long max, std::string expected) {
  return [=](const std::string& text) -> Result<int> {
    long long value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
      return Result<int>::failure(expected + got(text));
    }
    return Result<int>::success(static_cast<int>(value));
  };
}

// A finite number in [min, max], or in (min, max] when minExclusive.
auto numberIn(double min, double max, bool minExclusive, std::string expected) {
  return [=](const std::string& text) -> Result<double> {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    const bool inRange = minExclusive ? value > min : value >= min;
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || !inRange ||
        value > max) {
      return Result<double>::failure(expected + got(text));
    }
    return Result<double>::success(value);
  };
}

// A duration of at least min; why explains a minimum above zero.
auto durationAtLeast(Duration min, std::string why = {}) {
  return [=](const std::string& text) -> Result<Duration> {
    Result<Duration> parsed = parseDuration(text);
    if (!parsed || parsed.value() >= min) return parsed;
    std::string message = min == Duration{1} ? "expected a duration greater than 0s"
                                              : "expected a duration of at least " + formatDuration(min);
    if (!why.empty()) message += " (" + why + ")";
    return Result<Duration>::failure(message + got(text));
  };
}
auto anyDuration() { return durationAtLeast(Duration{0}); }
auto positiveDuration() { return durationAtLeast(Duration{1}); }

Result<EventAction> parseAction(const std::string& text) {
  if (const auto action = eventActionFromString(text)) return Result<EventAction>::success(*action);
  return Result<EventAction>::failure("expected one of none, notify, cordon, drain" + got(text));
}

// A text check as a parser: ok when check(text) holds, else "expected <what>, got ...".
template <typename Check>
auto textWhere(Check check, std::string expected) {
  return [=](const std::string& text) -> Result<std::string> {
    if (!check(text)) return Result<std::string>::failure(expected + got(text));
    return Result<std::string>::success(text);
  };
}

auto httpUrl(HttpUrlRules rules, std::string example, bool allowEmpty) {
  return [=](const std::string& text) -> Result<std::string> {
    if (allowEmpty && text.empty()) return Result<std::string>::success(text);
    if (const auto why = checkHttpUrl(text, rules)) {
      return Result<std::string>::failure("expected an http(s) URL like " + example + got(text) +
                                               " (" + *why + ")");
    }
    return Result<std::string>::success(text);
  };
}

// The IMDS base URL. A path prefix is allowed (a proxy, or the test fake's per-VM /vm/<name> used
// by the fleet benchmark); the agent appends /metadata/..., so a URL that already names /metadata
// is the full URL pasted by mistake.
auto imdsEndpoint() {
  return [](const std::string& text) -> Result<std::string> {
    const std::string example = "http://169.254.169.254";
    if (const auto why = checkHttpUrl(text, {})) {
      return Result<std::string>::failure("expected an http(s) URL like " + example + got(text) + " (" + *why + ")");
    }
    if (text.find("/metadata") != std::string::npos) {
      return Result<std::string>::failure("expected an http(s) URL like " + example + got(text) +
                                               " (a path with /metadata is not allowed: the agent appends it)");
    }
    return Result<std::string>::success(text);
  };
}

// ---- the tree walk ----

class Loader {
 public:
  Loader(const EnvLookup& env, std::vector<ConfigError>& errors) : env_(env), errors_(errors) {}

  void error(std::string path, std::string message) {
    errors_.push_back(ConfigError{std::move(path), std::move(message)});
  }

  // The expanded text of a scalar ("" for null); nullopt, with an error, for anything else.
  // expected names the type for "expected X, got a map".
  std::optional<std::string> text(const Node& node, const std::string& path, std::string_view expected) {
    if (node.IsNull()) return std::string();
    if (!node.IsScalar()) {
      error(path, std::string(expected) + ", got " + describe(node));
      return std::nullopt;
    }
    Result<std::string> expanded = expandEnvironment(node.Scalar(), env_);
    if (!expanded) {
      error(path, expanded.error());
      return std::nullopt;
    }
    return std::move(expanded.value());
  }

  // Like text(), for a credential (a webhook URL): no error message quotes the value.
  std::optional<std::string> secretText(const Node& node, const std::string& path) {
    if (node.IsNull()) return std::string();
    if (!node.IsScalar()) {
      error(path, "expected a URL, got " + std::string(describe(node)));
      return std::nullopt;
    }
    Result<std::string> expanded = expandEnvironment(node.Scalar(), env_);
    if (!expanded) {
      error(path, "cannot expand ${...} in the value (not shown: a webhook URL is a credential)");
      return std::nullopt;
    }
    return std::move(expanded.value());
  }

  // Parses a scalar node into out (left unchanged on error).
  template <typename T, typename Parse>
  void scalar(const Node& node, const std::string& path, T& out, Parse parse, std::string_view expected) {
    const std::optional<std::string> value = text(node, path, expected);
    if (!value) return;
    auto parsed = parse(*value);
    if (!parsed) {
      error(path, parsed.error());
      return;
    }
    out = std::move(parsed.value());
  }

 private:
  const EnvLookup& env_;
  std::vector<ConfigError>& errors_;
};

struct MapEntry {
  std::string key;
  Node value;
  bool used = false;  // asked for by a MapReader
};

// The entries of a map node in document order; null is an empty map. Non-string keys and
// duplicate keys are errors (and dropped). nullopt, with an error, when node is not a map.
std::optional<std::vector<MapEntry>> mapEntries(Loader& loader, const Node& node, const std::string& path,
                                                std::string_view expected) {
  std::vector<MapEntry> entries;
  std::unordered_set<std::string> names;  // a hostile file may hold ~100k keys: no quadratic scan
  if (node.IsNull()) return entries;
  if (!node.IsMap()) {
    loader.error(path, std::string(expected) + ", got " + describe(node));
    return std::nullopt;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const Node key = it->first;
    if (!key.IsScalar()) {
      loader.error(path, "keys must be plain strings, got " + std::string(describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (!names.insert(name).second) {
      loader.error(childPath(path, name), "duplicate key");
      continue;
    }
    entries.push_back(MapEntry{name, it->second, false});
  }
  return entries;
}

// A section with a fixed set of keys: the reader asks for each key it knows (take), then
// finish() reports every key nobody asked for, with the closest known key.
class MapReader {
 public:
  MapReader(Loader& loader, const Node& node, std::string path, std::string_view expected = "expected a map")
      : loader_(loader), path_(std::move(path)) {
    if (auto entries = mapEntries(loader, node, path_, expected)) {
      entries_ = std::move(*entries);
      valid_ = true;
    }
  }
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  bool valid() const { return valid_; }
  Loader& loader() { return loader_; }
  std::string child(std::string_view key) const { return childPath(path_, key); }

  // The value of key, if present; marks key as known either way.
  const Node* take(std::string_view key) {
    known_.push_back(key);
    for (MapEntry& entry : entries_) {
      if (entry.key == key) {
        entry.used = true;
        return &entry.value;
      }
    }
    return nullptr;
  }

  // Scalar field shorthands.
  template <typename T, typename Parse>
  void scalar(std::string_view key, T& out, Parse parse, std::string_view expected) {
    if (const Node* node = take(key)) loader_.scalar(*node, child(key), out, parse, expected);
  }
  void string(std::string_view key, std::string& out) { scalar(key, out, anyText, "expected a string"); }
  void boolean(std::string_view key, bool& out) { scalar(key, out, parseBool, "expected true or false"); }
  template <typename Parse>
  void duration(std::string_view key, Duration& out, Parse parse) {
    scalar(key, out, parse, kDurationExpected);
  }

  void finish() {
    for (const MapEntry& entry : entries_) {
      if (entry.used) continue;
      std::string message = "unknown key";
      if (const auto suggestion = closestMatch(entry.key, known_)) {
        message += "; did you mean \"" + *suggestion + "\"?";
      } else {
        message += "; valid keys are ";
        for (std::size_t i = 0; i < known_.size(); ++i) {
          if (i > 0) message += ", ";
          message += known_[i];
        }
      }
      loader_.error(child(entry.key), message);
    }
  }

 private:
  Loader& loader_;
  std::string path_;
  std::vector<MapEntry> entries_;
  std::vector<std::string_view> known_;
  bool valid_ = false;
};

// A list of scalars; null is an empty list. Entries that fail are reported and dropped.
template <typename Parse>
void stringList(Loader& loader, const Node* node, const std::string& path, std::vector<std::string>& out,
                Parse parse, std::string_view expected) {
  if (node == nullptr) return;
  if (node->IsNull()) {
    out.clear();
    return;
  }
  if (!node->IsSequence()) {
    loader.error(path, "expected a list, got " + std::string(describe(*node)));
    return;
  }
  std::vector<std::string> values;
  std::unordered_set<std::string> seen;
  std::size_t i = 0;
  for (auto it = node->begin(); it != node->end(); ++it, ++i) {
    std::string value;
    bool ok = false;
    loader.scalar(*it, indexPath(path, i), value,
                  [&](const std::string& text) {
                    auto parsed = parse(text);
                    ok = parsed.ok();
                    return parsed;
                  },
                  expected);
    if (!ok) continue;
    if (!seen.insert(value).second) {
      loader.error(indexPath(path, i), "duplicate entry " + quoteForMessage(value));
      continue;
    }
    values.push_back(std::move(value));
  }
  out = std::move(values);
}

bool isEventType(std::string_view text) {
  return std::find(std::begin(kEventTypeNames), std::end(kEventTypeNames), text) != std::end(kEventTypeNames);
}

std::string eventTypeHint(std::string_view name) {
  if (const auto suggestion = closestMatch(name, kEventTypeNames)) {
    return "; did you mean \"" + *suggestion + "\"?";
  }
  return "; expected one of Preempt, Terminate, Reboot, Redeploy, Freeze";
}

void readActions(Loader& loader, const Node& node, const std::string& path,
                 std::map<std::string, EventAction>& out) {
  const auto entries = mapEntries(loader, node, path, "expected a map of event type to action");
  if (!entries) return;
  for (const MapEntry& entry : *entries) {
    const std::string entryPath = childPath(path, entry.key);
    if (!isEventType(entry.key)) {
      loader.error(entryPath, "unknown event type" + eventTypeHint(entry.key));
      continue;
    }
    loader.scalar(entry.value, entryPath, out[entry.key], parseAction,
                  "expected one of none, notify, cordon, drain");
  }
}

void readImds(Loader& loader, const Node& node, const std::string& path, ImdsConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.scalar("endpoint", out.endpoint, imdsEndpoint(), "expected a URL");
  const auto apiVersion = textWhere(
      [](const std::string& text) {
        return !text.empty() && text.size() <= 64 &&
               text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
                   std::string::npos;
      },
      "expected an API version like 2020-07-01");
  map.scalar("scheduledEventsApiVersion", out.scheduledEventsApiVersion, apiVersion, "expected a string");
  map.scalar("instanceApiVersion", out.instanceApiVersion, apiVersion, "expected a string");
  map.duration("pollInterval", out.pollInterval,
               durationAtLeast(Duration{200}, "IMDS allows 5 requests per second per VM"));
  map.duration("timeout", out.timeout, positiveDuration());
  map.duration("firstCallTimeout", out.firstCallTimeout, positiveDuration());
  map.string("resourceName", out.resourceName);
  if (const Node* actions = map.take("actions")) readActions(loader, *actions, map.child("actions"), out.actions);
  stringList(loader, map.take("acknowledgeAfterDrain"), map.child("acknowledgeAfterDrain"),
             out.acknowledgeAfterDrain,
             [](const std::string& text) {
               if (isEventType(text)) return Result<std::string>::success(text);
               return Result<std::string>::failure("expected an event type (Preempt, Terminate, Reboot, "
                                                        "Redeploy, Freeze)" + got(text) + eventTypeHint(text));
             },
             "expected an event type");
  map.finish();
}

void readKubernetes(Loader& loader, const Node& node, const std::string& path, KubernetesConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.string("kubeconfig", out.kubeconfig);
  // Ranges a drain inside a 30 s notice can live with: 1e-300 was accepted and meant one
  // request per 1e300 s (the agent never cordoned); 1e308 overflowed the wait computation.
  map.scalar("qps", out.qps, numberIn(kMinQps, kMaxQps, false, "expected a number between 1 and 10000"),
             "expected a number");
  map.scalar("burst", out.burst, integerIn(1, kMaxBurst, "expected an integer between 1 and 100000"),
             "expected an integer");
  map.finish();
}

void readDrain(Loader& loader, const Node& node, const std::string& path, DrainConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.duration("timeout", out.timeout, positiveDuration());
  map.duration("deadlineMargin", out.deadlineMargin, anyDuration());
  map.duration("evictionRetryInterval", out.evictionRetryInterval, positiveDuration());
  map.scalar("parallelism", out.parallelism, integerIn(1, 1000, "expected an integer between 1 and 1000"),
             "expected an integer");
  map.scalar("podGracePeriodCap", out.podGracePeriodCap,
             [](const std::string& text) -> Result<std::optional<Duration>> {
               using Out = Result<std::optional<Duration>>;
               if (text.empty()) return Out::success(std::nullopt);
               Result<Duration> parsed = parseDuration(text);
               if (!parsed) return Out::failure(parsed.error() + "; or \"\" for no cap");
               // Pods' grace periods are whole seconds (terminationGracePeriodSeconds).
               if (parsed.value().count() % 1000 != 0) {
                 return Out::failure("expected a whole number of seconds like 20s" + got(text));
               }
               // gracePeriodSeconds 0 deletes the pod object at once, containers running or not.
               if (parsed.value() < Duration{1000}) {
                 return Out::failure("expected at least 1s (0s would be a force delete); \"\" for no cap" +
                                        got(text));
               }
               return Out::success(parsed.value());
             },
             kDurationExpected);
  map.boolean("deleteEmptyDirData", out.deleteEmptyDirData);
  stringList(loader, map.take("skipNamespaces"), map.child("skipNamespaces"), out.skipNamespaces,
             textWhere([](const std::string& text) { return isDnsLabel(text); },
                       "expected a namespace name (lowercase letters, digits and '-')"),
             "expected a namespace name");
  map.boolean("taint", out.taint);
  map.boolean("outOfServiceTaintAfterDrain", out.outOfServiceTaintAfterDrain);
  map.boolean("uncordonWhenEventEnds", out.uncordonWhenEventEnds);
  map.finish();
}

void readConditions(Loader& loader, const Node& node, const std::string& path, ConditionsConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.boolean("enabled", out.enabled);
  map.scalar("vmEventScheduled", out.vmEventScheduled,
             [](const std::string& text) -> Result<VmEventConditionMode> {
               if (const auto mode = vmEventConditionModeFromString(text)) {
                 return Result<VmEventConditionMode>::success(*mode);
               }
               return Result<VmEventConditionMode>::failure("expected one of auto, always, never" + got(text));
             },
             "expected one of auto, always, never");
  map.scalar("preemptionScheduled", out.preemptionScheduled,
             [](const std::string& text) -> Result<PreemptionConditionMode> {
               if (const auto mode = preemptionConditionModeFromString(text)) {
                 return Result<PreemptionConditionMode>::success(*mode);
               }
               return Result<PreemptionConditionMode>::failure("expected one of afterDrain, onDetect, never" +
                                                                    got(text));
             },
             "expected one of afterDrain, onDetect, never");
  map.finish();
}

// ---- notifications.webhooks (docs/notifications.md) ----

// At most this many webhooks: each is a worker, a queue and three metric series.
// A list of maps whose entries carry a key that must be unique: disks and caches (their
// normalised path) and webhooks (their name). readEntry(map, entry) fills one entry from its
// MapReader and returns whether its key is valid; keyOf(entry) gives the key to compare and the
// text to quote in a duplicate's message.
struct KeyedList {
  const char* entryHas;    // "a path": an entry is "a map with a path"
  std::size_t maxEntries;
  const char* plural;      // "entries" in "at most 100 entries"
  const char* keyName;     // the key's field, for the duplicate's path
};

template <typename Entry, typename ReadEntry, typename KeyOf>
void keyedList(Loader& loader, const Node* node, const std::string& path, std::vector<Entry>& out,
               const KeyedList& list, ReadEntry readEntry, KeyOf keyOf) {
  if (node == nullptr) return;
  if (node->IsNull()) {
    out.clear();
    return;
  }
  if (!node->IsSequence()) {
    loader.error(path, std::string("expected a list of maps with ") + list.entryHas + ", got " +
                           std::string(describe(*node)));
    return;
  }
  if (node->size() > list.maxEntries) {
    loader.error(path, "at most " + std::to_string(list.maxEntries) + " " + list.plural + ", got " +
                           std::to_string(node->size()));
    return;
  }
  std::vector<Entry> entries;
  std::map<std::string, std::size_t> seen;  // key -> index of its first entry
  std::size_t i = 0;
  for (auto element = node->begin(); element != node->end(); ++element, ++i) {
    const std::string entryPath = indexPath(path, i);
    MapReader map(loader, *element, entryPath, std::string("expected a map with ") + list.entryHas);
    if (!map.valid()) continue;
    Entry entry;
    const bool keyOk = readEntry(map, entry);
    map.finish();
    if (keyOk) {
      const auto [compared, shown] = keyOf(entry);
      const auto [it, inserted] = seen.emplace(compared, i);
      if (!inserted) {
        loader.error(childPath(entryPath, list.keyName), "duplicate of " + indexPath(path, it->second) + "." +
                                                             list.keyName + " " + quoteForMessage(shown));
      }
    }
    entries.push_back(std::move(entry));
  }
  out = std::move(entries);
}

constexpr std::size_t kMaxWebhooks = 16;
constexpr int kMaxWebhookRetries = 10;
constexpr Duration kMinWebhookTimeout{100};
constexpr Duration kMaxWebhookTimeout{300'000};

// The `webhook` label of aksnode_notifications_total: bounded and safe in any text format.
bool isWebhookName(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(text.front())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-' || c == '_'; });
}

std::span<const std::string_view> eventReasonNames() {
  static const auto names = [] {
    std::array<std::string_view, std::size(kEventReasons)> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = kEventReasons[i];
    return out;
  }();
  return names;
}

Result<std::string> parseEventReason(const std::string& text) {
  const auto names = eventReasonNames();
  if (std::find(names.begin(), names.end(), text) != names.end()) return Result<std::string>::success(text);
  std::string message = "expected an Event reason" + got(text);
  if (const auto suggestion = closestMatch(text, names)) {
    message += "; did you mean \"" + *suggestion + "\"?";
  } else {
    message += "; one of";
    for (std::string_view name : names) message += " " + std::string(name);
  }
  return Result<std::string>::failure(message);
}

// The URL is a credential: an error says what is wrong with it without quoting it.
Result<std::string> parseWebhookUrl(const std::string& text) {
  if (text.empty()) return Result<std::string>::success(text);  // "exactly one of" decides
  if (!isCleanText(text) || text.size() > 4096) {
    return Result<std::string>::failure("expected an http(s) URL of at most 4096 characters (value not shown: "
                                             "a webhook URL is a credential)");
  }
  if (const auto why = checkHttpUrl(text, HttpUrlRules{.allowPath = true, .allowQuery = true})) {
    return Result<std::string>::failure("expected an http(s) URL like https://hooks.slack.com/services/... (" +
                                             *why + "; value not shown: a webhook URL is a credential)");
  }
  return Result<std::string>::success(text);
}

bool readWebhook(MapReader& map, WebhookConfig& out) {
  Loader& loader = map.loader();
  bool nameOk = false;
  if (const Node* node = map.take("name")) {
    loader.scalar(*node, map.child("name"), out.name,
                  [&](const std::string& text) {
                    auto parsed = textWhere([](const std::string& t) { return isWebhookName(t); },
                                            "expected a name of letters, digits, '-' and '_' (1 to 63, starting "
                                            "with a letter or digit): it is a metric label")(text);
                    nameOk = parsed.ok();
                    return parsed;
                  },
                  "expected a string");
  } else {
    loader.error(map.child("name"), "required: the webhook's name (the webhook label of aksnode_notifications_total)");
  }
  bool urlBad = false;
  if (const Node* node = map.take("url")) {
    const std::optional<std::string> text = loader.secretText(*node, map.child("url"));
    Result<std::string> parsed = text ? parseWebhookUrl(*text) : Result<std::string>::failure({});
    if (parsed) {
      out.url = std::move(parsed.value());
    } else {
      urlBad = true;
      if (text) loader.error(map.child("url"), parsed.error());
    }
  }
  bool urlFileBad = false;
  map.scalar("urlFile", out.urlFile,
             [&](const std::string& text) {
               auto parsed = textWhere(
                   [](const std::string& t) { return t.empty() || (isAbsolutePath(t) && isCleanText(t)); },
                   "expected an absolute path like /etc/aks-node-agent/webhooks/slack")(text);
               urlFileBad = !parsed.ok();
               return parsed;
             },
             "expected a string");
  if (!urlBad && !urlFileBad && out.url.empty() == out.urlFile.empty()) {
    loader.error(map.child(out.url.empty() ? "url" : "urlFile"),
                 out.url.empty() ? "required: exactly one of url or urlFile (a file from a mounted Secret)"
                                 : "give exactly one of url or urlFile, not both");
  }
  map.scalar("format", out.format,
             [](const std::string& text) -> Result<WebhookFormat> {
               if (const auto format = webhookFormatFromString(text)) return Result<WebhookFormat>::success(*format);
               return Result<WebhookFormat>::failure("expected one of json, slack, teams" + got(text));
             },
             "expected one of json, slack, teams");
  if (const Node* on = map.take("on")) {
    stringList(loader, on, map.child("on"), out.on, parseEventReason, "expected an Event reason");
    if (on->IsNull() || (on->IsSequence() && on->size() == 0)) {
      loader.error(map.child("on"), "expected at least one Event reason (a webhook for none would never be called)");
    }
  }
  map.duration("timeout", out.timeout, [](const std::string& text) -> Result<Duration> {
    Result<Duration> parsed = durationAtLeast(kMinWebhookTimeout)(text);
    if (parsed && parsed.value() > kMaxWebhookTimeout) {
      return Result<Duration>::failure("expected a duration of at most 5m" + got(text));
    }
    return parsed;
  });
  map.scalar("retries", out.retries,
             integerIn(0, kMaxWebhookRetries, "expected an integer between 0 and " + std::to_string(kMaxWebhookRetries)),
             "expected an integer");
  return nameOk;
}

void readNotifications(Loader& loader, const Node& node, const std::string& path, NotificationsConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  const Node* list = map.take("webhooks");
  const std::string listPath = map.child("webhooks");
  map.finish();
  keyedList(loader, list, listPath, out.webhooks,
            KeyedList{"a name and a url or urlFile", kMaxWebhooks, "webhooks", "name"}, readWebhook,
            [](const WebhookConfig& w) { return std::pair{w.name, w.name}; });
}

const auto kRatio = numberIn(0, 1, false, "expected a number between 0 and 1");
const auto kAbsolutePath = textWhere([](const std::string& text) { return isAbsolutePath(text) && isCleanText(text); },
                                     "expected an absolute path like /mnt");

// The path of one disk or cache entry: required, absolute.
bool readEntryPath(MapReader& map, std::string& out) {
  const Node* node = map.take("path");
  if (node == nullptr) {
    map.loader().error(map.child("path"), "required: the absolute path of the mount or directory");
    return false;
  }
  bool ok = false;
  map.loader().scalar(*node, map.child("path"), out,
                      [&](const std::string& text) {
                        auto parsed = kAbsolutePath(text);
                        ok = parsed.ok();
                        return parsed;
                      },
                      "expected an absolute path");
  return ok;
}

bool readDisk(MapReader& map, DiskConfig& out) {
  const bool pathOk = readEntryPath(map, out.path);
  map.scalar("minFreeRatio", out.minFreeRatio, kRatio, "expected a number");
  map.scalar("minFreeInodesRatio", out.minFreeInodesRatio, kRatio, "expected a number");
  map.boolean("writeProbe", out.writeProbe);
  map.duration("maxProbeLatency", out.maxProbeLatency, positiveDuration());
  map.boolean("taintWhenUnhealthy", out.taintWhenUnhealthy);
  map.boolean("requireMountPoint", out.requireMountPoint);  // extension: NotMounted is a failure
  return pathOk;
}

bool readCache(MapReader& map, CacheConfig& out) {
  const bool pathOk = readEntryPath(map, out.path);
  map.scalar("maxUsedBytes", out.maxUsedBytes,
             [](const std::string& text) -> Result<std::optional<std::uint64_t>> {
               using Out = Result<std::optional<std::uint64_t>>;
               if (text.empty()) return Out::success(std::nullopt);
               Result<std::uint64_t> parsed = parseBytes(text);
               if (!parsed) return Out::failure(parsed.error() + "; or \"\" for no quota");
               if (parsed.value() == 0) {
                 return Out::failure("expected a byte size greater than 0, or \"\" for no quota" + got(text));
               }
               return Out::success(parsed.value());
             },
             kBytesExpected);
  map.boolean("writeProbe", out.writeProbe);
  map.boolean("taintWhenUnhealthy", out.taintWhenUnhealthy);
  return pathOk;
}

void readExchange(Loader& loader, const Node& node, const std::string& path, IdentityExchangeConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.boolean("enabled", out.enabled);
  map.scalar("scope", out.scope,
             textWhere([](const std::string& text) { return !text.empty() && isCleanText(text); },
                       "expected a scope like https://storage.azure.com/.default"),
             "expected a string");
  map.duration("interval", out.interval, positiveDuration());
  map.finish();
}

void readPodScan(Loader& loader, const Node& node, const std::string& path, IdentityPodScanConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.boolean("enabled", out.enabled);
  map.duration("interval", out.interval, positiveDuration());
  map.finish();
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

void readIdentity(Loader& loader, const Node& node, const std::string& path, IdentityConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.boolean("enabled", out.enabled);
  map.string("tokenFile", out.tokenFile);
  map.string("clientId", out.clientId);
  map.string("tenantId", out.tenantId);
  map.scalar("authorityHost", out.authorityHost, httpUrl({}, "https://login.microsoftonline.com/", false),
             "expected a URL");
  map.string("expectedAudience", out.expectedAudience);
  map.scalar("expectedIssuer", out.expectedIssuer, httpUrl({}, "https://oidc.example.com/issuer/", true),
             "expected a URL");
  map.scalar("expectedSubject", out.expectedSubject,
             textWhere([](const std::string& text) { return text.empty() || isServiceAccountSubject(text); },
                       "expected \"\" or system:serviceaccount:NAMESPACE:NAME"),
             "expected a string");
  map.duration("minRemainingValidity", out.minRemainingValidity, anyDuration());
  map.duration("clockSkew", out.clockSkew, anyDuration());
  map.boolean("verifySignature", out.verifySignature);
  if (const Node* exchange = map.take("exchange")) readExchange(loader, *exchange, map.child("exchange"), out.exchange);
  if (const Node* podScan = map.take("podScan")) readPodScan(loader, *podScan, map.child("podScan"), out.podScan);
  map.finish();
}

void readMetrics(Loader& loader, const Node& node, const std::string& path, MetricsConfig& out) {
  MapReader map(loader, node, path);
  if (!map.valid()) return;
  map.scalar("address", out.address,
             [](const std::string& text) -> Result<std::string> {
               Result<HostPort> parsed = parseHostPort(text);
               if (!parsed) return Result<std::string>::failure(parsed.error());
               return Result<std::string>::success(text);
             },
             "expected host:port");
  map.finish();
}

void readConfig(Loader& loader, const Node& root, Config& out) {
  if (!root.IsNull() && !root.IsMap()) {
    loader.error("", std::string("the configuration must be a YAML map of keys like \"imds:\", got ") + describe(root));
    return;
  }
  MapReader map(loader, root, "");
  map.scalar("nodeName", out.nodeName,
             textWhere([](const std::string& text) { return text.empty() || isDnsSubdomain(text); },
                       "expected a Kubernetes node name (lowercase letters, digits, '-' and '.')"),
             "expected a string");
  if (const Node* node = map.take("imds")) readImds(loader, *node, map.child("imds"), out.imds);
  if (const Node* node = map.take("kubernetes")) readKubernetes(loader, *node, map.child("kubernetes"), out.kubernetes);
  if (const Node* node = map.take("drain")) readDrain(loader, *node, map.child("drain"), out.drain);
  if (const Node* node = map.take("conditions")) readConditions(loader, *node, map.child("conditions"), out.conditions);
  if (const Node* node = map.take("notifications")) {
    readNotifications(loader, *node, map.child("notifications"), out.notifications);
  }
  const KeyedList pathList{"a path", kMaxListEntries, "entries", "path"};
  const auto byPath = [](const auto& entry) { return std::pair{normalizePathForComparison(entry.path), entry.path}; };
  keyedList(loader, map.take("disks"), map.child("disks"), out.disks, pathList, readDisk, byPath);
  keyedList(loader, map.take("caches"), map.child("caches"), out.caches, pathList, readCache, byPath);
  map.duration("healthInterval", out.healthInterval, positiveDuration());
  map.scalar("healthThreshold", out.healthThreshold,
             integerIn(1, std::numeric_limits<int>::max(), "expected an integer of at least 1"),
             "expected an integer");
  if (const Node* node = map.take("identity")) readIdentity(loader, *node, map.child("identity"), out.identity);
  if (const Node* node = map.take("metrics")) readMetrics(loader, *node, map.child("metrics"), out.metrics);
  map.finish();
}

// Counts documents without building them.
// Thrown from the event handler to stop the streaming pass at the first problem.
struct StreamProblem {
  std::string message;
};

class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, const std::string&) override {
    node(mark, tag);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark, tag);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, tag);
  }
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;

 private:
  static std::string where(const YAML::Mark& mark) {
    return "at line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
  }
  void node(const YAML::Mark& mark, const std::string& tag = {}) {
    if (++nodes_ > kMaxConfigYamlNodes) {
      throw StreamProblem{"the configuration has more than " + std::to_string(kMaxConfigYamlNodes) +
                          " YAML nodes (" + where(mark) + "); it cannot be a configuration of this agent"};
    }
    // "?" and "!" are the non-specific tags of plain and quoted scalars; the core schema's own
    // tags (!!str, !!int, ...) are harmless. Anything else (!foo, !!python/object) is a type the
    // loader does not know: refused, not silently read as a string.
    static constexpr std::string_view kCore = "tag:yaml.org,2002:";
    if (tag.empty() || tag == "?" || tag == "!") return;
    if (tag.compare(0, kCore.size(), kCore) == 0) {
      const std::string_view type = std::string_view(tag).substr(kCore.size());
      if (type == "str" || type == "int" || type == "float" || type == "bool" || type == "null" || type == "map" ||
          type == "seq") {
        return;
      }
    }
    throw StreamProblem{"unknown YAML tag \"" + tag.substr(0, 64) + "\" " + where(mark)};
  }
  std::size_t nodes_ = 0;
};

// nullopt when text holds at most one YAML document, else why not.
//
// Never YAML::LoadAll: yaml-cpp 0.7 loops forever, allocating, on text its parser cannot consume
// (a stream starting with ",": jbeder/yaml-cpp#1040, fixed upstream by #1319 after 0.8).
// Each HandleNextDocument call below is bounded; a parser stuck on a token reports a second
// "document" starting at the same place, which is how it is told apart from a real one.
std::optional<std::string> checkSingleDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  try {
    for (int i = 0; i < 3 && parser.HandleNextDocument(counter); ++i) {
    }
  } catch (const StreamProblem& problem) {
    return problem.message;
  }
  for (std::size_t i = 1; i < counter.starts.size(); ++i) {
    if (counter.starts[i].pos == counter.starts[i - 1].pos) {
      const YAML::Mark& mark = counter.starts[i];
      return "invalid YAML at line " + std::to_string(mark.line + 1) + ", column " +
             std::to_string(mark.column + 1) + ": unexpected text";
    }
  }
  if (counter.starts.size() > 1) return std::string("expected one YAML document, found more (---)");
  return std::nullopt;
}

}  // namespace

ConfigLoadResult loadConfigString(std::string_view text, const EnvLookup& env) {
  ConfigLoadResult result;
  if (text.size() > kMaxConfigBytes) {
    result.errors.push_back({"", "the configuration is larger than 1 MiB (" + std::to_string(text.size()) + " bytes)"});
    return result;
  }
  Loader loader(env, result.errors);
  try {
    const std::string owned(text);
    if (auto problem = checkSingleDocument(owned)) {
      loader.error("", std::move(*problem));
      return result;
    }
    readConfig(loader, YAML::Load(owned), result.config);
  } catch (const YAML::DeepRecursion& e) {
    loader.error("", "invalid YAML: nested deeper than " + std::to_string(e.depth() - 1) + " levels");
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) {
      where = " at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    }
    loader.error("", "invalid YAML" + where + ": " + e.msg);
  } catch (const std::exception& e) {
    loader.error("", std::string("invalid YAML: ") + e.what());
  }
  return result;
}

ConfigLoadResult loadConfigFile(const std::string& path, const EnvLookup& env) {
  ConfigLoadResult result;
  auto fail = [&](const std::string& why) {
    result.errors.push_back({"", "cannot read config file " + quoteForMessage(path, 256) + ": " + why});
    return result;
  };
  // Never open(2) a FIFO or device without O_NONBLOCK: `--config FIFO` waited forever.
  InputFile file = readInputFile(path, kMaxConfigBytes);
  if (file.status == InputFile::Status::TooLarge) return fail("larger than 1 MiB");
  if (!file.ok()) return fail(file.error);
  const std::string& text = file.text;
  return loadConfigString(text, env);
}

namespace {

// Writes YAML with the loader's conventions: strings double-quoted with "$" escaped, every
// other scalar in its plain text form.
class ConfigPrinter {
 public:
  void begin(std::string_view key) { out_ << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap; }
  void end() { out_ << YAML::EndMap; }
  void string(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << escapeForExpansion(value);
  }
  void plain(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << value;
  }
  void boolean(std::string_view key, bool value) { plain(key, value ? "true" : "false"); }
  void integer(std::string_view key, long long value) { plain(key, std::to_string(value)); }
  void number(std::string_view key, double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
    plain(key, ec == std::errc() ? std::string(buffer, end) : std::to_string(value));
  }
  void duration(std::string_view key, Duration value) { plain(key, formatDuration(value)); }
  void stringList(std::string_view key, const std::vector<std::string>& values) {
    out_ << YAML::Key;
    // YAML 1.1 readers (PyYAML, Helm) take a bare on for true (docs/notifications.md).
    if (key == "on") out_ << YAML::DoubleQuoted;
    out_ << std::string(key) << YAML::Value;
    if (values.empty()) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
    for (const std::string& value : values) out_ << YAML::DoubleQuoted << escapeForExpansion(value);
    out_ << YAML::EndSeq;
  }
  // A list of maps: beginList, then beginListEntry/end per entry, then endList.
  void beginList(std::string_view key, bool empty) {
    out_ << YAML::Key << std::string(key) << YAML::Value;
    if (empty) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
  }
  void beginListEntry() { out_ << YAML::BeginMap; }
  void endList() { out_ << YAML::EndSeq; }

  YAML::Emitter& emitter() { return out_; }

 private:
  YAML::Emitter out_;
};

}  // namespace

std::string printEffectiveConfig(const Config& config, ConfigSecrets secrets) {
  ConfigPrinter p;
  p.emitter() << YAML::BeginMap;
  p.string("nodeName", config.nodeName);

  const ImdsConfig& imds = config.imds;
  p.begin("imds");
  p.string("endpoint", imds.endpoint);
  p.string("scheduledEventsApiVersion", imds.scheduledEventsApiVersion);
  p.string("instanceApiVersion", imds.instanceApiVersion);
  p.duration("pollInterval", imds.pollInterval);
  p.duration("timeout", imds.timeout);
  p.duration("firstCallTimeout", imds.firstCallTimeout);
  p.string("resourceName", imds.resourceName);
  p.begin("actions");
  for (std::string_view type : kEventTypeNames) {
    if (const auto it = imds.actions.find(std::string(type)); it != imds.actions.end()) {
      p.plain(type, toString(it->second));
    }
  }
  for (const auto& [type, action] : imds.actions) {  // anything beyond the five (not loadable)
    if (!isEventType(type)) p.string(type, toString(action));
  }
  p.end();
  p.stringList("acknowledgeAfterDrain", imds.acknowledgeAfterDrain);
  p.end();

  const KubernetesConfig& kube = config.kubernetes;
  p.begin("kubernetes");
  p.string("kubeconfig", kube.kubeconfig);
  p.number("qps", kube.qps);
  p.integer("burst", kube.burst);
  p.end();

  const DrainConfig& drain = config.drain;
  p.begin("drain");
  p.duration("timeout", drain.timeout);
  p.duration("deadlineMargin", drain.deadlineMargin);
  p.duration("evictionRetryInterval", drain.evictionRetryInterval);
  p.integer("parallelism", drain.parallelism);
  if (drain.podGracePeriodCap) {
    p.duration("podGracePeriodCap", *drain.podGracePeriodCap);
  } else {
    p.string("podGracePeriodCap", "");
  }
  p.boolean("deleteEmptyDirData", drain.deleteEmptyDirData);
  p.stringList("skipNamespaces", drain.skipNamespaces);
  p.boolean("taint", drain.taint);
  p.boolean("outOfServiceTaintAfterDrain", drain.outOfServiceTaintAfterDrain);
  p.boolean("uncordonWhenEventEnds", drain.uncordonWhenEventEnds);
  p.end();

  p.begin("conditions");
  p.boolean("enabled", config.conditions.enabled);
  p.plain("vmEventScheduled", toString(config.conditions.vmEventScheduled));
  p.plain("preemptionScheduled", toString(config.conditions.preemptionScheduled));
  p.end();

  p.begin("notifications");
  p.beginList("webhooks", config.notifications.webhooks.empty());
  for (const WebhookConfig& webhook : config.notifications.webhooks) {
    p.beginListEntry();
    p.string("name", webhook.name);
    if (!webhook.url.empty()) {
      p.string("url", secrets == ConfigSecrets::Shown ? webhook.url : redactedUrl(webhook.url));
    }
    if (!webhook.urlFile.empty()) p.string("urlFile", webhook.urlFile);
    p.plain("format", toString(webhook.format));
    p.stringList("on", webhook.on);
    p.duration("timeout", webhook.timeout);
    p.integer("retries", webhook.retries);
    p.end();
  }
  p.endList();
  p.end();

  p.beginList("disks", config.disks.empty());
  for (const DiskConfig& disk : config.disks) {
    p.beginListEntry();
    p.string("path", disk.path);
    p.number("minFreeRatio", disk.minFreeRatio);
    p.number("minFreeInodesRatio", disk.minFreeInodesRatio);
    p.boolean("writeProbe", disk.writeProbe);
    p.duration("maxProbeLatency", disk.maxProbeLatency);
    p.boolean("taintWhenUnhealthy", disk.taintWhenUnhealthy);
    p.boolean("requireMountPoint", disk.requireMountPoint);
    p.end();
  }
  p.endList();

  p.beginList("caches", config.caches.empty());
  for (const CacheConfig& cache : config.caches) {
    p.beginListEntry();
    p.string("path", cache.path);
    if (cache.maxUsedBytes) {
      p.plain("maxUsedBytes", formatBytes(*cache.maxUsedBytes));
    } else {
      p.string("maxUsedBytes", "");
    }
    p.boolean("writeProbe", cache.writeProbe);
    p.boolean("taintWhenUnhealthy", cache.taintWhenUnhealthy);
    p.end();
  }
  p.endList();

  p.duration("healthInterval", config.healthInterval);
  p.integer("healthThreshold", config.healthThreshold);

  const IdentityConfig& identity = config.identity;
  p.begin("identity");
  p.boolean("enabled", identity.enabled);
  p.string("tokenFile", identity.tokenFile);
  p.string("clientId", identity.clientId);
  p.string("tenantId", identity.tenantId);
  p.string("authorityHost", identity.authorityHost);
  p.string("expectedAudience", identity.expectedAudience);
  p.string("expectedIssuer", identity.expectedIssuer);
  p.string("expectedSubject", identity.expectedSubject);
  p.duration("minRemainingValidity", identity.minRemainingValidity);
  p.duration("clockSkew", identity.clockSkew);
  p.boolean("verifySignature", identity.verifySignature);
  p.begin("exchange");
  p.boolean("enabled", identity.exchange.enabled);
  p.string("scope", identity.exchange.scope);
  p.duration("interval", identity.exchange.interval);
  p.end();
  p.begin("podScan");
  p.boolean("enabled", identity.podScan.enabled);
  p.duration("interval", identity.podScan.interval);
  p.end();
  p.end();

  p.begin("metrics");
  p.string("address", config.metrics.address);
  p.end();

  p.emitter() << YAML::EndMap;
  std::string text = p.emitter().c_str();
  text += '\n';
  return text;
}

}  // namespace aksnode
