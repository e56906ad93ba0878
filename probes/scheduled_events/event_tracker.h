#pragma once
// Scheduled events across polls: which events for this VM are pending, and what changed.
//
// Feed every good document (parser.h) to update(). The tracker keeps the events whose Resources
// name this VM (resource_name.h) and whose type is known, and reports lifecycle changes:
//   Started  the tracker saw the event for this VM for the first time (NOT EventStatus Started:
//            a hardware-failure event may arrive already Started);
//   Changed  status (Scheduled -> Started), NotBefore, type or Resources changed;
//   Ended    the event is gone from the list (IMDS has no Completed status), or no longer names
//            this VM, or its type became unknown.
// Documents the poller could not parse are not fed in, so a bad response never ends an event.
//
// The action engine must be level-triggered: it reconciles the node with pending() after each
// update, and uses the changes for logs, Kubernetes Events and metrics. That is what makes the
// awkward cases heal by themselves:
//  * Azure re-issues an event under a new EventId (the Microsoft mock server does this on every
//    status change): the tracker reports Ended(old) + Started(new), pending() holds the new one;
//  * DocumentIncarnation goes DOWN (a stale IMDS cache, or a counter that restarted after the VM
//    moved host). Decision: the list is still trusted as the current truth (IMDS is the only
//    source there is, and refusing it could pin a node cordoned for ever after a counter reset);
//    the update says so (incarnationWentBack) for the log. An event that vanishes and comes back
//    is reported Started again with `reappeared` set and is not counted as newly seen.
//
// Deadlines: an event's effective deadline is its NotBefore; when it has none (Started, NotBefore
// empty, absent or unreadable) it is imminent and the deadline is the wall time of the update
// that first found it so (kept fixed afterwards, so it does not drift every poll).
//
// Ignored events are counted once per distinct EventId (per reason), not once per poll:
// `other_vm` (Resources do not name this VM), `unknown_type`, and `invalid` (events the parser
// skipped, counted once per distinct problem text).
//
// Pure logic: time comes in as parameters, nothing is logged. Not thread-safe (one event loop).
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/core/time_source.h"
#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode {

struct PendingEvent {
  ScheduledEvent event;       // as in the latest document
  MonotonicTime firstSeen{};  // the poll that first returned it for this VM (detection latency)
  SystemTime firstSeenWall{};
  SystemTime deadline{};      // effective deadline, see above
  bool imminent = false;      // deadline is a stand-in: no readable NotBefore
};

// What differs between two versions of one event.
struct EventChangeSet {
  bool status = false;
  bool notBefore = false;
  bool type = false;
  bool resources = false;
  bool any() const { return status || notBefore || type || resources; }
  std::string toString() const;  // "status,notBefore" (stable order), "" when nothing
};

enum class LifecycleKind { Started, Changed, Ended };

struct LifecycleChange {
  LifecycleKind kind = LifecycleKind::Started;
  PendingEvent event;       // Started/Changed: the current version; Ended: the last one seen
  ScheduledEvent previous;  // Changed only: the version before
  EventChangeSet what;      // Changed only
  bool reappeared = false;  // Started only: this EventId was pending before, ended, and is back
};

struct IgnoredEvent {
  ScheduledEvent event;
  std::string reason;  // "other_vm" or "unknown_type"
};

// What one update() found. The counts are NEW occurrences, ready to add to counters.
struct TrackerUpdate {
  std::vector<LifecycleChange> changes;  // Started and Changed in document order, then Ended
  // aksnode_scheduled_events_ignored_total{reason}
  int ignoredOtherVm = 0;
  int ignoredUnknownType = 0;
  int ignoredInvalid = 0;
  std::vector<IgnoredEvent> newlyIgnored;  // one log line each
  std::vector<std::string> newProblems;    // one log line each (the parser's problem text)
  // aksnode_scheduled_events_seen_total{event_type}: distinct EventIds newly seen for this VM.
  std::map<EventType, int> newlySeen;
  std::int64_t incarnation = 0;
  std::optional<std::int64_t> previousIncarnation;  // nullopt on the first document
  bool incarnationChanged = false;
  bool incarnationWentBack = false;  // lower than the last one: log it, the list is still used
};

class EventTracker {
 public:
  // How many ended EventIds are remembered to recognise one that comes back.
  static constexpr std::size_t kRememberEnded = 1024;

  TrackerUpdate update(const ScheduledEventsDocument& document, const std::string& vmName,
                       MonotonicTime now, SystemTime wallNow);

  // Events for this VM, of known types, in the order they were first seen.
  const std::vector<PendingEvent>& pending() const { return pending_; }
  const PendingEvent* find(const std::string& eventId) const;

  // The earliest effective deadline of the pending events (of Preempt/Terminate only when
  // `evictionsOnly`); nullopt when none. Feeds aksnode_eviction_not_before_timestamp_seconds
  // and the PreemptionScheduled condition message.
  std::optional<SystemTime> earliestNotBefore(bool evictionsOnly = false) const;
  // A Preempt or Terminate event is pending for this VM (aksnode_eviction_pending).
  bool evictionPending() const;

  std::optional<std::int64_t> lastIncarnation() const { return lastIncarnation_; }

 private:
  void rememberEnded(const std::string& eventId);

  std::vector<PendingEvent> pending_;
  std::optional<std::int64_t> lastIncarnation_;
  // EventId -> reason, for the ignored events of the last document.
  std::unordered_map<std::string, std::string> ignored_;
  std::unordered_set<std::string> problems_;  // problem texts of the last document
  std::unordered_set<std::string> ended_;
  std::deque<std::string> endedOrder_;
};

}  // namespace aksnode
