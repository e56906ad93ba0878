#pragma once
// The configuration's schema: which keys exist, their types, bounds and defaults (the defaults
// are config.h's member initialisers), one reader per section (docs/configuration.md).
#include "agent/config/config.h"
#include "agent/config/yaml_reader.h"

namespace aksnode::config_reader {

// Reads the document's root into out; every problem goes to loader.
void readConfig(Loader& loader, const Node& root, Config& out);

}  // namespace aksnode::config_reader
