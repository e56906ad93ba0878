#pragma once
// Logging: spdlog, JSON lines by default (time, level, msg, and structured fields), or text.
// String fields and messages are passed through secrets::redactSecrets; one message is written
// at most 50 times per 10 s (then summed up). Call sites pass structured fields as key/value pairs:
//   log::info("cordoned node", {{"node", name}, {"eventId", id}});
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace aksnode::log {

enum class Level { Trace, Debug, Info, Warn, Error };
enum class Format { Json, Text };

// A structured field. Trivially copyable and destructible on purpose: it only refers to
// the caller's strings (alive until the end of the log call's full expression) and stores
// numbers by value. GCC 12 mishandles the lifetime of initializer_list temporaries inside
// coroutines; a Field that owns nothing makes that harmless.
struct Field {
  enum class Kind : unsigned char { String, Signed, Unsigned, Double, Bool };
  Field(std::string_view k, std::string_view v) : key(k), text(v), kind(Kind::String) {}
  Field(std::string_view k, const char* v) : key(k), text(v ? v : ""), kind(Kind::String) {}
  Field(std::string_view k, const std::string& v) : key(k), text(v), kind(Kind::String) {}
  Field(std::string_view k, long long v) : key(k), i(v), kind(Kind::Signed) {}
  Field(std::string_view k, int v) : key(k), i(v), kind(Kind::Signed) {}
  Field(std::string_view k, long v) : key(k), i(v), kind(Kind::Signed) {}
  Field(std::string_view k, unsigned v) : key(k), u(v), kind(Kind::Unsigned) {}
  Field(std::string_view k, unsigned long v) : key(k), u(v), kind(Kind::Unsigned) {}
  Field(std::string_view k, unsigned long long v) : key(k), u(v), kind(Kind::Unsigned) {}
  Field(std::string_view k, double v) : key(k), d(v), kind(Kind::Double) {}
  Field(std::string_view k, bool v) : key(k), b(v), kind(Kind::Bool) {}
  std::string_view key;
  std::string_view text;
  union {
    long long i;
    unsigned long long u;
    double d;
    bool b;
  };
  Kind kind;
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

// Lines of one message beyond 50 per 10 s are dropped and counted (agent/core/log_rate_limiter.h);
// this writes the "repeated log lines suppressed" summary of windows that have ended. Called
// now and then from the event loop, so a flood that stopped is still summed up.
void flushSuppressed();

}  // namespace aksnode::log
