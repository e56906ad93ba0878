#pragma once

namespace aksnode {
// Runs the agent as the command line asks; returns the process exit code (docs/interface.md).
int runMain(int argc, char** argv);
}  // namespace aksnode
