#pragma once
// The action engine: owns the reconcile loop that moves the live Node toward
// computeDesiredNode() (desired_state.h), runs the drain when one is wanted, acknowledges
// events, writes conditions and Kubernetes Events, and keeps the node-action metrics.
//
// Everything runs on the one event-loop thread. Inputs arrive through setPending() (after
// every good IMDS document) and setHealth() (after every probe round); each kicks a pass.
// A pass also runs every kResyncInterval with a fresh GET of the Node, so drift heals.
//
// Beside it: the drain of one event (drain_runner.h), the approval of a drained one
// (acknowledgement.h), the Events' texts (events.h), the /status JSON (engine_status.h). A dry run is not a branch here: the engine talks to decorators that
// log and simulate the writes (agent/kube/dry_run_kube_client.h, DryRunAcknowledger).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engine/acknowledgement.h"
#include "agent/engine/desired_state.h"
#include "agent/engine/drain_runner.h"
#include "agent/engine/health_debouncer.h"
#include "agent/engine/node_events.h"
#include "agent/engine/node_view.h"
#include "agent/kube/drainer.h"

namespace aksnode {

class KubeClient;
class EventAcknowledger;
class Metrics;
class Timers;
class Alarm;
class Notifier;
struct DryRunSeams;

struct ActionEngineDeps {
  const Config& config;
  KubeClient* kube = nullptr;  // null: no API server configured (status says why)
  Drainer* drainer = nullptr;
  EventAcknowledger* imds = nullptr;  // for acknowledgements (null: none, as in a dry run)
  Metrics& metrics;
  Timers& timers;
  // Writes nothing: kube, drainer and imds are wrapped in decorators that log and simulate the
  // writes. The engine itself only labels its metrics and Events with it.
  bool dryRun = false;
  std::string nodeName;
  std::string ownPodNamespace;
  std::string ownPodName;
  std::string kubeNotConfiguredReason;
  // False while another agent for this node holds its lease (agent/kube/node_lease.h): this
  // one then writes nothing (no patch, drain, Event or acknowledgement). Unset: always acts.
  std::function<bool()> mayAct;
  // Webhook notices for the Events recorded (agent/notify); null: none configured. notify()
  // only queues, so the engine never waits for a receiver.
  Notifier* notifier = nullptr;
};

class ActionEngine {
 public:
  static constexpr std::chrono::seconds kResyncInterval{10};

  ActionEngine(boost::asio::any_io_executor executor, ActionEngineDeps deps);
  ~ActionEngine();

  void setVmName(std::string name);
  void setPending(const std::vector<PendingEvent>& pending, const std::vector<LifecycleChange>& changes);
  void setHealth(const std::vector<ProbeResult>& raw);

  boost::asio::awaitable<void> run();
  void stop();
  // The node lease was won (acting) or lost: a running drain is abandoned to the new holder.
  void setActing(bool acting);

  bool kubeReady() const { return kubeEverOk_; }
  std::string kubeNotReadyReason() const;
  const std::optional<NodeView>& lastNode() const { return node_; }
  const std::vector<ProbeResult>& health() const { return health_; }
  boost::json::object statusJson() const;

 private:
  boost::asio::awaitable<void> reconcile(bool fresh);
  boost::asio::awaitable<bool> readNode();
  boost::asio::awaitable<void> applyNode(const DesiredNode& desired);
  // Recomputes the desired conditions from node_ as it is now, then writes the difference.
  boost::asio::awaitable<void> applyConditions();
  void maybeStartDrain(const DesiredNode& desired);
  void setPhase(const std::string& eventId, ActionPhase phase);
  void kick();
  void noteYielded(const std::vector<YieldedCondition>& yielded);
  void onKubeResult(bool ok, const std::string& what);
  void warnIfCordonLate();
  boost::asio::awaitable<void> watchCordon();
  boost::asio::awaitable<void> reconcileLoop();
  bool acting() const;
  EngineInputs inputs() const;
  DesiredNode desiredNow();

  boost::asio::any_io_executor executor_;
  bool simulatedAck_;  // no real acknowledgement: a dry run, or no IMDS client (before deps_)
  std::unique_ptr<DryRunSeams> dryRunSeams_;  // the decorators of a dry run (before deps_)
  ActionEngineDeps deps_;
  NodeEventRecorder events_;
  HealthDebouncer debouncer_;
  std::unique_ptr<Alarm> alarm_;
  std::unique_ptr<Alarm> watchAlarm_;  // the late-cordon watch
  bool stopped_ = false;

  std::string vmName_;
  std::vector<PendingEvent> pending_;
  bool eventsKnown_ = false;  // a good IMDS document arrived while the VM's name was known
  std::vector<ProbeResult> health_;
  std::map<std::string, ActionPhase> localPhases_;
  std::map<std::string, SystemTime> endedAt_;  // the annotated event, once seen no longer pending

  std::optional<NodeView> node_;
  bool kubeEverOk_ = false;
  std::string lastKubeError_;
  int consecutiveKubeFailures_ = 0;
  int conflictPasses_ = 0;  // passes in a row that gave up on 409s; reset by a successful PATCH
  MonotonicTime lastLateWarning_{};
  bool standingBy_ = false;  // another agent holds the node's lease (setActing(false))
  std::set<std::string> latencyObserved_;  // event ids whose detection latency was recorded
  // Conditions left to another writer (node-problem-detector): logged once per type and reason.
  std::vector<YieldedCondition> yielded_;
  std::set<std::string> yieldedLogged_;

  DrainRunner drain_;
  AcknowledgementRunner acknowledgements_;
};

}  // namespace aksnode
