#pragma once
// --once: run every probe one time, print a JSON report, exit 0 when all healthy, 1 otherwise.
#include <string>

#include "agent/config/config.h"

namespace aksnode {

// nodeName may be empty (kube disabled). Prints to stdout; returns the exit code.
int runOnce(const Config& config, const std::string& nodeName);

}  // namespace aksnode
