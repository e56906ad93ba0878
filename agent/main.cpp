// aks-node-agent entry point: parse the command line, then hand over to the app (agent/app).
#include "agent/app/app.h"

int main(int argc, char** argv) { return aksnode::runMain(argc, argv); }
