#pragma once
// Logging: spdlog, JSON lines by default (time, level, msg, and structured fields), or text.
// Call sites pass structured fields as key/value pairs:
//   log::info("cordoned node", {{"node", name}, {"eventId", id}});
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace aksnode::log {

enum class Level { Trace, Debug, Info, Warn, Error };
enum class Format { Json, Text };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : ""), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  std::string key;
  std::string value;
  bool quoted;
};
using Fields = std::initializer_list<Field>;

// Sets up the process-wide logger (stderr). Safe to call again (tests).
void init(Level level, Format format);
bool parseLevel(std::string_view text, Level& out);
bool parseFormat(std::string_view text, Format& out);

void write(Level level, std::string_view message, Fields fields = {});
inline void trace(std::string_view m, Fields f = {}) { write(Level::Trace, m, f); }
inline void debug(std::string_view m, Fields f = {}) { write(Level::Debug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(Level::Info, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(Level::Warn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(Level::Error, m, f); }
bool enabled(Level level);

}  // namespace aksnode::log
