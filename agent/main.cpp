// aks-node-agent entry point: parse the command line, then hand over to the app (agent/app).
#include <malloc.h>
#include <csignal>

#include "agent/app/app.h"

int main(int argc, char** argv) {
  // Bodies up to the 1 MiB limit (a huge IMDS answer, a page of pods) are allocated and freed
  // now and then. glibc raises its mmap threshold to the size of each freed mmapped block, so
  // after the first such body the next ones come from the heap, which then stays grown and
  // fragmented (the soak test saw the anonymous RSS creep from 2 to 5 MiB). A fixed threshold
  // keeps every block over 256 KiB in its own mapping, returned to the kernel when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // A write to a socket or pipe whose reader went away (a log collector restarting, a closed
  // stdout in --once) must fail with EPIPE, not kill the process silently.
  std::signal(SIGPIPE, SIG_IGN);
  return aksnode::runMain(argc, argv);
}
