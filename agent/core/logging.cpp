#include "agent/core/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "agent/core/log_rate_limiter.h"
#include "agent/core/secret_redaction.h"

namespace aksnode::log {

namespace {
Format g_format = Format::Json;
// One limiter for the process (the event loop and the disk worker threads log). The log is the
// one place that reads the clock itself: it stamps lines with the real time anyway.
std::mutex g_limiterMutex;
LogRateLimiter g_limiter;

spdlog::level::level_enum toSpd(Level l) {
  switch (l) {
    case Level::Trace: return spdlog::level::trace;
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string jsonQuote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

// The value as JSON: quoted strings, bare numbers and booleans (non-finite doubles as null).
std::string valueText(const Field& f) {
  switch (f.kind) {
    case Field::Kind::String: return jsonQuote(f.text);
    case Field::Kind::Signed: return std::to_string(f.i);
    case Field::Kind::Unsigned: return std::to_string(f.u);
    case Field::Kind::Bool: return f.b ? "true" : "false";
    case Field::Kind::Double: {
      if (!std::isfinite(f.d)) return "null";
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", f.d);
      return buf;
    }
  }
  return "null";
}
}  // namespace

void init(Level level, Format format) {
  g_format = format;
  auto logger = spdlog::get("aks-node-agent");
  if (!logger) {
    // Unsynchronised sink under a mutex of spdlog's own: the agent logs from the event loop
    // and from disk worker threads.
    logger = spdlog::stderr_logger_mt("aks-node-agent");
  }
  if (format == Format::Json) {
    // %Y-%m-%dT%H:%M:%S.%e%z is RFC 3339 with milliseconds; the message part is already JSON.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(toSpd(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

bool parseLevel(std::string_view t, Level& out) {
  if (t == "trace") out = Level::Trace;
  else if (t == "debug") out = Level::Debug;
  else if (t == "info") out = Level::Info;
  else if (t == "warn") out = Level::Warn;
  else if (t == "error") out = Level::Error;
  else return false;
  return true;
}

bool parseFormat(std::string_view t, Format& out) {
  if (t == "json") out = Format::Json;
  else if (t == "text") out = Format::Text;
  else return false;
  return true;
}

bool enabled(Level level) { return spdlog::default_logger_raw()->should_log(toSpd(level)); }

namespace {
// Every string that reaches the log may carry outside text; credentials are cut out here, so
// no call site can forget it (arch/FAULTS.md, "Attacks on the running binary": echoed bearer token).
void writeLine(spdlog::logger& logger, Level level, std::string_view message, Fields fields) {
  std::string line;
  line.reserve(64 + message.size());
  const std::string safeMessage = secrets::redactSecrets(message);
  if (g_format == Format::Json) {
    line += "\"msg\":";
    line += jsonQuote(safeMessage);
    for (const auto& f : fields) {
      line += ',';
      line += jsonQuote(f.key);
      line += ':';
      line += f.kind == Field::Kind::String ? jsonQuote(secrets::redactSecrets(f.text)) : valueText(f);
    }
  } else {
    line += safeMessage;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      line += f.kind == Field::Kind::String ? jsonQuote(secrets::redactSecrets(f.text)) : valueText(f);
    }
  }
  logger.log(toSpd(level), "{}", line);
}

void writeSummaries(spdlog::logger& logger, const std::vector<LogRateLimiter::Suppressed>& ended) {
  for (const auto& e : ended) {
    writeLine(logger, Level::Warn, "repeated log lines suppressed",
              {{"message", e.message}, {"suppressed", e.count}, {"windowSeconds", 10}});
  }
}
}  // namespace

void write(Level level, std::string_view message, Fields fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(toSpd(level))) return;
  std::vector<LogRateLimiter::Suppressed> ended;
  bool admitted = true;
  {
    std::lock_guard lock(g_limiterMutex);
    const auto now = LogRateLimiter::Clock::now();
    ended = g_limiter.takeEnded(now);
    admitted = g_limiter.admit(message, now);
  }
  writeSummaries(*logger, ended);
  if (admitted) writeLine(*logger, level, message, fields);
}

void flushSuppressed() {
  auto* logger = spdlog::default_logger_raw();
  std::vector<LogRateLimiter::Suppressed> ended;
  {
    std::lock_guard lock(g_limiterMutex);
    ended = g_limiter.takeEnded(LogRateLimiter::Clock::now());
  }
  writeSummaries(*logger, ended);
}

}  // namespace aksnode::log
