#include "probes/disk/mount_info.h"

#include <charconv>

namespace aksnode::disk {

namespace {

bool isOctal(char c) { return c >= '0' && c <= '7'; }

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos >= line.size()) break;
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

std::optional<long> parseId(std::string_view text) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool looksLikeMajorMinor(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  return parseId(text.substr(0, colon)) && parseId(text.substr(colon + 1));
}

}  // namespace

std::string unescapeMountField(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && isOctal(field[i + 1]) &&
        isOctal(field[i + 2]) && isOctal(field[i + 3])) {
      int value = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      if (value <= 0xff) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::optional<MountEntry> parseMountInfoLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto fields = splitFields(line);
  // Six fixed fields, the "-" separator, then at least the filesystem type.
  if (fields.size() < 8) return std::nullopt;
  std::size_t separator = 6;
  while (separator < fields.size() && fields[separator] != "-") ++separator;
  if (separator >= fields.size() || separator + 1 >= fields.size()) return std::nullopt;

  MountEntry entry;
  auto mountId = parseId(fields[0]);
  auto parentId = parseId(fields[1]);
  if (!mountId || !parentId || !looksLikeMajorMinor(fields[2])) return std::nullopt;
  entry.mountId = *mountId;
  entry.parentId = *parentId;
  entry.majorMinor = std::string(fields[2]);
  entry.root = unescapeMountField(fields[3]);
  entry.mountPoint = unescapeMountField(fields[4]);
  if (entry.mountPoint.empty() || entry.mountPoint.front() != '/') return std::nullopt;
  entry.mountOptions = std::string(fields[5]);
  for (std::size_t i = 6; i < separator; ++i) entry.optionalFields.emplace_back(fields[i]);
  entry.fsType = unescapeMountField(fields[separator + 1]);
  if (separator + 2 < fields.size()) entry.source = unescapeMountField(fields[separator + 2]);
  if (separator + 3 < fields.size()) entry.superOptions = std::string(fields[separator + 3]);
  return entry;
}

std::vector<MountEntry> parseMountInfo(std::string_view text) {
  std::vector<MountEntry> mounts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (auto entry = parseMountInfoLine(text.substr(pos, end - pos))) {
      mounts.push_back(std::move(*entry));
    }
    pos = end + 1;
  }
  return mounts;
}

const MountEntry* findMountFor(const std::vector<MountEntry>& mounts,
                               std::string_view canonicalPath) {
  const MountEntry* best = nullptr;
  for (const auto& mount : mounts) {
    std::string_view mp = mount.mountPoint;
    bool contains = false;
    if (mp == "/") {
      contains = !canonicalPath.empty() && canonicalPath.front() == '/';
    } else if (canonicalPath.size() >= mp.size() && canonicalPath.substr(0, mp.size()) == mp) {
      contains = canonicalPath.size() == mp.size() || canonicalPath[mp.size()] == '/';
    }
    // ">=": of equal mount points the later line wins (it is mounted on top).
    if (contains && (best == nullptr || mp.size() >= best->mountPoint.size())) best = &mount;
  }
  return best;
}

bool hasMountOption(std::string_view options, std::string_view option) {
  std::size_t pos = 0;
  while (pos <= options.size()) {
    std::size_t end = options.find(',', pos);
    if (end == std::string_view::npos) end = options.size();
    if (options.substr(pos, end - pos) == option) return true;
    pos = end + 1;
  }
  return false;
}

bool mountIsReadOnly(const MountEntry& mount) {
  for (std::string_view options :
       {std::string_view(mount.mountOptions), std::string_view(mount.superOptions)}) {
    if (hasMountOption(options, "ro") || hasMountOption(options, "emergency_ro")) return true;
  }
  return false;
}

}  // namespace aksnode::disk
