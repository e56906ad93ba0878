#include "agent/config/yaml_reader.h"

#include <algorithm>

#include "agent/config/suggest.h"
#include "agent/config/utf8.h"

namespace aksnode::config_reader {

namespace {

// A key as it appears in a path: as written when short and printable, else quoted, escaped and
// cut short (a key is untrusted text that ends up in messages and logs).
std::string displayKey(std::string_view key) {
  if (!key.empty() && key.size() <= 64 && isCleanText(key)) return std::string(key);
  return quoteForMessage(key);
}

}  // namespace

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

std::optional<std::string> Loader::text(const Node& node, const std::string& path, std::string_view expected) {
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
  return std::move(expanded).value();
}

std::optional<std::string> Loader::secretText(const Node& node, const std::string& path) {
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
  return std::move(expanded).value();
}

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

MapReader::MapReader(Loader& loader, const Node& node, std::string path, std::string_view expected)
    : loader_(loader), path_(std::move(path)) {
  if (auto entries = mapEntries(loader, node, path_, expected)) {
    entries_ = std::move(*entries);
    valid_ = true;
  }
}

const Node* MapReader::take(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  for (MapEntry& entry : entries_) {
    if (entry.key == key) {
      entry.used = true;
      return &entry.value;
    }
  }
  return nullptr;
}

void MapReader::finish() {
  if (finished_) return;
  finished_ = true;
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

}  // namespace aksnode::config_reader
