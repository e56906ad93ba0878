#pragma once

namespace aksnode {
// Runs the agent as the command line asks; returns the process exit code (CONTRACT.md section 1).
int runMain(int argc, char** argv);
}  // namespace aksnode
