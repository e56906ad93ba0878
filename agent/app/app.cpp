#include "agent/app/app.h"

namespace aksnode {
int runMain(int, char**) { return 0; }
}  // namespace aksnode
