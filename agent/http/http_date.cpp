#include "agent/http/http_date.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "agent/core/ascii.h"

namespace aksnode {
namespace {

using namespace std::chrono;

constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2199;  // well inside system_clock's nanosecond range (1678-2262)

constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

// A left-to-right reader over the input; every method either consumes what it matched or
// leaves the position unchanged.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  bool acceptAnyOf(std::string_view chars) {
    if (done() || chars.find(s_[i_]) == std::string_view::npos) return false;
    ++i_;
    return true;
  }
  // Exactly `minDigits`..`maxDigits` decimal digits (no sign).
  bool number(int minDigits, int maxDigits, int& out) {
    std::size_t j = i_;
    int value = 0;
    while (j < s_.size() && j - i_ < static_cast<std::size_t>(maxDigits) && ascii::isDigit(s_[j])) {
      value = value * 10 + (s_[j] - '0');
      ++j;
    }
    const auto n = static_cast<int>(j - i_);
    if (n < minDigits) return false;
    if (j < s_.size() && ascii::isDigit(s_[j])) return false;  // more digits than allowed
    out = value;
    i_ = j;
    return true;
  }
  std::string_view word() {
    std::size_t j = i_;
    while (j < s_.size() && ascii::isAlpha(s_[j])) ++j;
    std::string_view w = s_.substr(i_, j - i_);
    i_ = j;
    return w;
  }
  // Exactly `n` digits, whatever follows (for run-together fields such as "+0100").
  bool fixed(int n, int& out) {
    if (s_.size() - i_ < static_cast<std::size_t>(n)) return false;
    int value = 0;
    for (int k = 0; k < n; ++k) {
      const char ch = s_[i_ + static_cast<std::size_t>(k)];
      if (!ascii::isDigit(ch)) return false;
      value = value * 10 + (ch - '0');
    }
    out = value;
    i_ += static_cast<std::size_t>(n);
    return true;
  }
  bool spaces() {  // one or more blanks
    std::size_t j = i_;
    while (j < s_.size() && s_[j] == ' ') ++j;
    if (j == i_) return false;
    i_ = j;
    return true;
  }
  std::size_t position() const { return i_; }
  void reset(std::size_t p) { i_ = p; }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  nanoseconds fraction{0};
  minutes offset{0};  // local time = UTC + offset
};

std::optional<SystemTime> assemble(const Fields& f) {
  if (f.year < kMinYear || f.year > kMaxYear) return std::nullopt;
  if (f.month < 1 || f.month > 12) return std::nullopt;
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
  const year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month)},
                           day{static_cast<unsigned>(f.day)}};
  if (f.day < 1 || !ymd.ok()) return std::nullopt;
  // A leap second (:60) lands on the next second, as timegm() does.
  const auto utc = sys_days{ymd} + hours{f.hour} + minutes{f.minute} + seconds{f.second} +
                   f.fraction - f.offset;
  // The range applies to the UTC instant too, so whatever is read can be written back
  // (formatRfc3339) and read again.
  if (utc < sys_days{year{kMinYear} / January / 1} || utc >= sys_days{year{kMaxYear + 1} / January / 1}) {
    return std::nullopt;
  }
  return time_point_cast<SystemTime::duration>(utc);
}

std::optional<int> monthFromName(std::string_view w) {
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (ascii::iequals(w, kMonths[i])) return static_cast<int>(i) + 1;
  }
  // Full names ("August") are not HTTP dates but cost nothing to accept.
  static constexpr std::array<std::string_view, 12> kFull{
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  for (std::size_t i = 0; i < kFull.size(); ++i) {
    if (ascii::iequals(w, kFull[i])) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

bool looksLikeWeekday(std::string_view w) {
  if (w.size() < 3 || w.size() > 9) return false;
  for (std::string_view d : kWeekdays) {
    if (ascii::iequals(w.substr(0, 3), d)) return true;
  }
  return false;
}

// "17:07:32" or "17:07" (RFC 822 allows leaving out the seconds).
bool parseClock(Cursor& c, Fields& f) {
  if (!c.number(2, 2, f.hour) || !c.accept(':') || !c.number(2, 2, f.minute)) return false;
  if (c.accept(':')) return c.number(2, 2, f.second);
  f.second = 0;
  return true;
}

// "+hh:mm", "+hhmm", "+hh" (ISO), sign required.
bool parseNumericOffset(Cursor& c, Fields& f) {
  const std::size_t start = c.position();
  int sign = 0;
  if (c.accept('+')) {
    sign = 1;
  } else if (c.accept('-')) {
    sign = -1;
  } else {
    return false;
  }
  int hh = 0;
  int mm = 0;
  if (!c.fixed(2, hh)) {
    c.reset(start);
    return false;
  }
  if (c.accept(':')) {
    if (!c.number(2, 2, mm)) {
      c.reset(start);
      return false;
    }
  } else if (ascii::isDigit(c.peek()) && !c.fixed(2, mm)) {
    c.reset(start);
    return false;
  }
  if (hh > 23 || mm > 59) {
    c.reset(start);
    return false;
  }
  f.offset = minutes{sign * (hh * 60 + mm)};
  return true;
}

// RFC 1123 / RFC 822 / RFC 850 zone, or none (UTC).
bool parseHttpZone(Cursor& c, Fields& f) {
  if (c.done()) return true;
  if (!c.spaces()) return false;
  if (c.done()) return true;  // trailing blanks were trimmed, so this cannot happen; be safe
  if (c.peek() == '+' || c.peek() == '-') return parseNumericOffset(c, f);
  const std::string_view zone = c.word();
  return ascii::iequals(zone, "GMT") || ascii::iequals(zone, "UTC") || ascii::iequals(zone, "UT") ||
         ascii::iequals(zone, "Z");
}

int expandTwoDigitYear(int yy) { return yy >= 70 ? 1900 + yy : 2000 + yy; }

// After the weekday: "09 Aug 2022 17:07:32 GMT" or "09-Aug-22 17:07:32 GMT".
std::optional<SystemTime> parseDayMonthYear(Cursor& c) {
  Fields f;
  if (!c.number(1, 2, f.day)) return std::nullopt;
  if (c.accept('-')) {  // RFC 850
    const auto month = monthFromName(c.word());
    if (!month || !c.accept('-')) return std::nullopt;
    f.month = *month;
    int yy = 0;
    if (c.number(4, 4, yy)) {
      f.year = yy;
    } else if (c.number(2, 2, yy)) {
      f.year = expandTwoDigitYear(yy);
    } else {
      return std::nullopt;
    }
  } else {  // RFC 1123 / 822
    if (!c.spaces()) return std::nullopt;
    const auto month = monthFromName(c.word());
    if (!month || !c.spaces() || !c.number(4, 4, f.year)) return std::nullopt;
    f.month = *month;
  }
  if (!c.spaces() || !parseClock(c, f) || !parseHttpZone(c, f) || !c.done()) return std::nullopt;
  return assemble(f);
}

// After the weekday: "Aug  9 17:07:32 2022" (asctime, always UTC).
std::optional<SystemTime> parseAsctimeRest(Cursor& c) {
  Fields f;
  const auto month = monthFromName(c.word());
  if (!month || !c.spaces() || !c.number(1, 2, f.day) || !c.spaces() || !parseClock(c, f) ||
      !c.spaces() || !c.number(4, 4, f.year) || !c.done()) {
    return std::nullopt;
  }
  f.month = *month;
  return assemble(f);
}

}  // namespace

std::optional<SystemTime> parseRfc1123Date(std::string_view text) {
  Cursor c(ascii::trim(text));
  if (ascii::isDigit(c.peek())) return parseDayMonthYear(c);  // no weekday (RFC 822 allows it)
  const std::string_view weekday = c.word();
  if (!looksLikeWeekday(weekday)) return std::nullopt;  // its value is never checked
  if (c.accept(',')) {
    c.spaces();
    return parseDayMonthYear(c);
  }
  if (!c.spaces()) return std::nullopt;
  return parseAsctimeRest(c);
}

std::optional<SystemTime> parseIso8601Date(std::string_view text) {
  Cursor c(ascii::trim(text));
  Fields f;
  if (!c.number(4, 4, f.year) || !c.accept('-') || !c.number(2, 2, f.month) || !c.accept('-') ||
      !c.number(2, 2, f.day)) {
    return std::nullopt;
  }
  if (!c.acceptAnyOf("Tt ")) return std::nullopt;  // a date alone is no deadline
  if (!parseClock(c, f)) return std::nullopt;
  if (c.acceptAnyOf(".,")) {
    // Any number of digits; keep nanoseconds, drop the rest.
    std::int64_t nanos = 0;
    int digits = 0;
    while (ascii::isDigit(c.peek())) {
      if (digits < 9) {
        nanos = nanos * 10 + (c.peek() - '0');
        ++digits;
      }
      c.accept(c.peek());
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 9; ++d) nanos *= 10;
    f.fraction = nanoseconds{nanos};
  }
  if (!c.acceptAnyOf("Zz")) {
    if (!c.done() && !parseNumericOffset(c, f)) return std::nullopt;
  }
  if (!c.done()) return std::nullopt;
  return assemble(f);
}

std::optional<SystemTime> parseHttpDate(std::string_view text) {
  const std::string_view t = ascii::trim(text);
  if (t.size() >= 5 && ascii::isDigit(t[0]) && t[4] == '-') return parseIso8601Date(t);
  return parseRfc1123Date(t);
}

namespace {

struct Broken {
  int year, month, day, hour, minute, second;
  unsigned weekday;  // 0 = Sunday
};

Broken breakDown(sys_seconds secs) {
  const auto dayPoint = floor<days>(secs);
  const year_month_day ymd{dayPoint};
  const hh_mm_ss<seconds> hms{secs - dayPoint};
  return Broken{static_cast<int>(ymd.year()),
                static_cast<int>(static_cast<unsigned>(ymd.month())),
                static_cast<int>(static_cast<unsigned>(ymd.day())),
                static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                weekday{dayPoint}.c_encoding()};
}

}  // namespace

std::string formatRfc3339(sys_seconds t) {
  const Broken b = breakDown(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", b.year, b.month, b.day, b.hour,
                b.minute, b.second);
  return buf;
}

std::string formatRfc3339(SystemTime t, int fractionDigits) {
  const sys_seconds whole = floor<seconds>(t);
  std::string out = formatRfc3339(whole);
  if (fractionDigits <= 0) return out;
  char nanos[16];
  std::snprintf(nanos, sizeof nanos, "%09lld", static_cast<long long>(duration_cast<nanoseconds>(t - whole).count()));
  out.insert(out.size() - 1, "." + std::string(nanos, static_cast<std::size_t>(std::min(fractionDigits, 9))));
  return out;
}

std::string formatRfc1123(SystemTime t) {
  const Broken b = breakDown(floor<seconds>(t));
  const std::string_view wd = kWeekdays[b.weekday % 7];
  const std::string_view mon = kMonths[static_cast<std::size_t>(b.month - 1) % 12];
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", wd.data(), b.day,
                mon.data(), b.year, b.hour, b.minute, b.second);
  return buf;
}

}  // namespace aksnode
