#include "agent/kube/drainer.h"

namespace aksnode {

const char* toString(DrainResult r) {
  switch (r) {
    case DrainResult::Success: return "success";
    case DrainResult::Timeout: return "timeout";
    case DrainResult::Error: return "error";
    case DrainResult::Cancelled: return "cancelled";
  }
  return "error";
}

}  // namespace aksnode
