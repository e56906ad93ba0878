#include "probes/scheduled_events/event_tracker.h"

#include <algorithm>

#include "agent/core/ascii.h"
#include "probes/scheduled_events/resource_name.h"

namespace aksnode {
namespace {

constexpr const char* kOtherVm = "other_vm";
constexpr const char* kUnknownType = "unknown_type";

// The effective deadline for `event`, given what was known before (nullptr: first sight).
void setDeadline(PendingEvent& p, const PendingEvent* before, SystemTime wallNow) {
  if (p.event.notBefore) {
    p.deadline = *p.event.notBefore;
    p.imminent = false;
  } else if (before && before->imminent) {
    p.deadline = before->deadline;  // already imminent: keep the moment it became so
    p.imminent = true;
  } else {
    p.deadline = wallNow;
    p.imminent = true;
  }
}

// The same set of VM names, ignoring order and letter case (a reordered list is no change).
bool sameResources(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  const auto normalised = [](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    out.reserve(names.size());
    for (const auto& n : names) out.push_back(ascii::lower(n));
    std::sort(out.begin(), out.end());
    return out;
  };
  return normalised(a) == normalised(b);
}

EventChangeSet diff(const ScheduledEvent& before, const ScheduledEvent& now) {
  EventChangeSet c;
  c.status = before.status != now.status || before.statusName != now.statusName;
  c.notBefore = before.notBefore != now.notBefore || before.notBeforeUnreadable != now.notBeforeUnreadable;
  c.type = before.type != now.type;
  c.resources = !sameResources(before.resources, now.resources);
  return c;
}

}  // namespace

std::string EventChangeSet::toString() const {
  std::string out;
  const auto add = [&](bool flag, const char* name) {
    if (!flag) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(status, "status");
  add(notBefore, "notBefore");
  add(type, "type");
  add(resources, "resources");
  return out;
}

TrackerUpdate EventTracker::update(const ScheduledEventsDocument& document, const std::string& vmName,
                                   MonotonicTime now, SystemTime wallNow) {
  TrackerUpdate u;
  u.incarnation = document.incarnation;
  u.previousIncarnation = lastIncarnation_;
  if (lastIncarnation_) {
    u.incarnationChanged = document.incarnation != *lastIncarnation_;
    u.incarnationWentBack = document.incarnation < *lastIncarnation_;
  }
  lastIncarnation_ = document.incarnation;

  // Index of the current pending list, to find each event's previous version.
  std::unordered_map<std::string, std::size_t> before;
  before.reserve(pending_.size());
  for (std::size_t i = 0; i < pending_.size(); ++i) before.emplace(pending_[i].event.eventId, i);

  std::vector<PendingEvent> next;
  std::unordered_map<std::string, std::string> ignored;
  std::unordered_set<std::string> stillPending;

  std::unordered_set<std::string> processed;  // the parser drops repeated ids; be safe anyway
  for (const ScheduledEvent& e : document.events) {
    if (!processed.insert(e.eventId).second) continue;
    const char* ignoreReason = nullptr;
    if (!eventTargetsVm(e, vmName)) {
      ignoreReason = kOtherVm;
    } else if (e.type == EventType::Unknown) {
      ignoreReason = kUnknownType;
    }
    if (ignoreReason) {
      const auto previous = ignored_.find(e.eventId);
      if (previous == ignored_.end() || previous->second != ignoreReason) {
        (ignoreReason == kOtherVm ? u.ignoredOtherVm : u.ignoredUnknownType) += 1;
        u.newlyIgnored.push_back(IgnoredEvent{e, ignoreReason});
      }
      ignored.emplace(e.eventId, ignoreReason);
      continue;
    }

    PendingEvent p;
    p.event = e;
    const auto it = before.find(e.eventId);
    if (it == before.end()) {
      p.firstSeen = now;
      p.firstSeenWall = wallNow;
      setDeadline(p, nullptr, wallNow);
      LifecycleChange c;
      c.kind = LifecycleKind::Started;
      c.event = p;
      c.reappeared = ended_.count(e.eventId) > 0;
      if (!c.reappeared) u.newlySeen[e.type] += 1;
      u.changes.push_back(std::move(c));
    } else {
      const PendingEvent& old = pending_[it->second];
      p.firstSeen = old.firstSeen;
      p.firstSeenWall = old.firstSeenWall;
      setDeadline(p, &old, wallNow);
      const EventChangeSet what = diff(old.event, e);
      if (what.any()) {
        LifecycleChange c;
        c.kind = LifecycleKind::Changed;
        c.event = p;
        c.previous = old.event;
        c.what = what;
        u.changes.push_back(std::move(c));
      }
      stillPending.insert(e.eventId);
    }
    next.push_back(std::move(p));
  }

  // Ended: pending before, not pending now (gone, no longer ours, or type became unknown).
  for (const PendingEvent& old : pending_) {
    if (stillPending.count(old.event.eventId)) continue;
    LifecycleChange c;
    c.kind = LifecycleKind::Ended;
    c.event = old;
    u.changes.push_back(std::move(c));
    rememberEnded(old.event.eventId);
  }

  // Keep the first-seen order: survivors in their old order, then the new ones.
  std::stable_sort(next.begin(), next.end(), [&](const PendingEvent& a, const PendingEvent& b) {
    const auto ia = before.find(a.event.eventId);
    const auto ib = before.find(b.event.eventId);
    const std::size_t ka = ia == before.end() ? before.size() : ia->second;
    const std::size_t kb = ib == before.end() ? before.size() : ib->second;
    return ka < kb;
  });
  pending_ = std::move(next);
  ignored_ = std::move(ignored);

  std::unordered_set<std::string> problems;
  for (const std::string& problem : document.problems) {
    const bool firstInDocument = problems.insert(problem).second;
    if (firstInDocument && !problems_.count(problem)) {
      u.ignoredInvalid += 1;
      u.newProblems.push_back(problem);
    }
  }
  problems_ = std::move(problems);
  return u;
}

const PendingEvent* EventTracker::find(const std::string& eventId) const {
  for (const auto& p : pending_) {
    if (p.event.eventId == eventId) return &p;
  }
  return nullptr;
}

std::optional<SystemTime> EventTracker::earliestNotBefore(bool evictionsOnly) const {
  std::optional<SystemTime> earliest;
  for (const auto& p : pending_) {
    if (evictionsOnly && !isFatal(p.event.type)) continue;
    if (!earliest || p.deadline < *earliest) earliest = p.deadline;
  }
  return earliest;
}

bool EventTracker::evictionPending() const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [](const PendingEvent& p) { return isFatal(p.event.type); });
}

void EventTracker::rememberEnded(const std::string& eventId) {
  if (!ended_.insert(eventId).second) return;
  endedOrder_.push_back(eventId);
  if (endedOrder_.size() > kRememberEnded) {
    ended_.erase(endedOrder_.front());
    endedOrder_.pop_front();
  }
}

}  // namespace aksnode
