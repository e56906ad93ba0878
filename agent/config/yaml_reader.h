#pragma once
// The generic half of the configuration loader: walks a yaml-cpp tree, keeps the key path of
// every node ("disks[1].minFreeRatio"), expands ${VAR} in scalars, reports type errors ("expected
// a list, got a map"), duplicate and unknown keys (with the closest known key). Knows nothing of
// the agent's keys: config_schema.cpp says which keys exist.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "agent/config/config_error.h"
#include "agent/config/env_expand.h"
#include "agent/config/quote.h"
#include "agent/config/scalar_parsers.h"

namespace aksnode::config_reader {

using YAML::Node;

// "a map", "a list", "nothing", "a scalar": what a node is, for "expected X, got <that>".
const char* describe(const Node& node);
// parent.key (a key that is long or not clean text is quoted); key alone at the top.
std::string childPath(const std::string& parent, std::string_view key);
// parent[index]
std::string indexPath(const std::string& parent, std::size_t index);

// Collects errors and reads scalars (expanded) into values.
class Loader {
 public:
  Loader(const EnvLookup& env, std::vector<ConfigError>& errors) : env_(env), errors_(errors) {}

  void error(std::string path, std::string message) {
    errors_.push_back(ConfigError{std::move(path), std::move(message)});
  }

  // The expanded text of a scalar ("" for null); nullopt, with an error, for anything else.
  // expected names the type for "expected X, got a map".
  std::optional<std::string> text(const Node& node, const std::string& path, std::string_view expected);
  // Like text(), for a credential (a webhook URL): no error message quotes the value.
  std::optional<std::string> secretText(const Node& node, const std::string& path);

  // Parses a scalar node into out (left unchanged on error). Whether out was set.
  template <typename T, typename Parse>
  bool scalar(const Node& node, const std::string& path, T& out, Parse parse, std::string_view expected) {
    const std::optional<std::string> value = text(node, path, expected);
    if (!value) return false;
    auto parsed = parse(*value);
    if (!parsed) {
      error(path, parsed.error());
      return false;
    }
    out = std::move(parsed.value());
    return true;
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
                                                std::string_view expected);

// A section with a fixed set of keys: the reader asks for each key it knows (take), then
// finish() reports every key nobody asked for, with the closest known key.
class MapReader {
 public:
  MapReader(Loader& loader, const Node& node, std::string path, std::string_view expected = "expected a map");
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  bool valid() const { return valid_; }
  Loader& loader() { return loader_; }
  std::string child(std::string_view key) const { return childPath(path_, key); }

  // The value of key, if present; marks key as known either way.
  const Node* take(std::string_view key);

  // Scalar field shorthands; whether key was present and read.
  template <typename T, typename Parse>
  bool scalar(std::string_view key, T& out, Parse parse, std::string_view expected) {
    const Node* node = take(key);
    return node != nullptr && loader_.scalar(*node, child(key), out, parse, expected);
  }
  void string(std::string_view key, std::string& out) { scalar(key, out, anyText, "expected a string"); }
  void boolean(std::string_view key, bool& out) { scalar(key, out, parseBool, "expected true or false"); }
  template <typename Parse>
  void duration(std::string_view key, Duration& out, Parse parse) {
    scalar(key, out, parse, kDurationExpected);
  }
  // An enum spelled one of a few words; expected ("expected one of a, b") says which.
  template <typename E>
  void choice(std::string_view key, E& out, std::optional<E> (*fromString)(const std::string&),
              const std::string& expected) {
    scalar(key, out, oneOf(fromString, expected), expected);
  }
  // A section below this one, when key is present: read(sectionReader, out), then its finish().
  template <typename Section, typename Read>
  void section(std::string_view key, Section& out, Read read) {
    const Node* node = take(key);
    if (node == nullptr) return;
    MapReader sub(loader_, *node, child(key));
    if (!sub.valid()) return;
    read(sub, out);
    sub.finish();
  }

  // Reports the keys nobody took (once: later calls do nothing).
  void finish();

 private:
  Loader& loader_;
  std::string path_;
  std::vector<MapEntry> entries_;
  std::vector<std::string_view> known_;
  bool valid_ = false;
  bool finished_ = false;
};

// Where a list is not a list (or null): nullptr, after reporting it; else the node.
// Null clears out (an empty list); an absent key (node == nullptr) leaves it.
template <typename Entry>
const Node* listNode(Loader& loader, const Node* node, const std::string& path, std::vector<Entry>& out,
                     std::string_view expected) {
  if (node == nullptr) return nullptr;
  if (node->IsNull()) {
    out.clear();
    return nullptr;
  }
  if (!node->IsSequence()) {
    loader.error(path, std::string(expected) + ", got " + describe(*node));
    return nullptr;
  }
  return node;
}

// A list of scalars; null is an empty list. Entries that fail, or repeat, are reported and dropped.
template <typename Parse>
void stringList(Loader& loader, const Node* node, const std::string& path, std::vector<std::string>& out,
                Parse parse, std::string_view expected) {
  const Node* list = listNode(loader, node, path, out, "expected a list");
  if (list == nullptr) return;
  std::vector<std::string> values;
  std::unordered_set<std::string> seen;
  std::size_t i = 0;
  for (auto it = list->begin(); it != list->end(); ++it, ++i) {
    std::string value;
    if (!loader.scalar(*it, indexPath(path, i), value, parse, expected)) continue;
    if (!seen.insert(value).second) {
      loader.error(indexPath(path, i), "duplicate entry " + quoteForMessage(value));
      continue;
    }
    values.push_back(std::move(value));
  }
  out = std::move(values);
}

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
  const Node* items = listNode(loader, node, path, out, std::string("expected a list of maps with ") + list.entryHas);
  if (items == nullptr) return;
  if (items->size() > list.maxEntries) {
    loader.error(path, "at most " + std::to_string(list.maxEntries) + " " + list.plural + ", got " +
                           std::to_string(items->size()));
    return;
  }
  std::vector<Entry> entries;
  std::map<std::string, std::size_t> seen;  // key -> index of its first entry
  std::size_t i = 0;
  for (auto element = items->begin(); element != items->end(); ++element, ++i) {
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

}  // namespace aksnode::config_reader
