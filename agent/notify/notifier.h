#pragma once
// The seam between what happens on the node (agent/engine) and webhook delivery
// (notifier_impl.h). notify() only queues: it never waits, never fails and never throws, so a
// slow, failing or hanging receiver cannot delay a cordon or an eviction (arch/ARCHITECTURE.md,
// "Notifications").
#include "agent/notify/notice.h"

namespace aksnode {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Queues the notice for every webhook whose `on` names notice.reason.
  virtual void notify(const Notice& notice) = 0;
};

}  // namespace aksnode
