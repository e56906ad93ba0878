#include "probes/probe.h"

#include "agent/http/http_date.h"

namespace aksnode {

// /status had `at`, --once did not: the one shape keeps every field either served.
boost::json::object probeResultJson(const ProbeResult& r) {
  return {{"kind", r.kind},
          {"target", r.target},
          {"healthy", r.healthy},
          {"reason", r.reason},
          {"message", r.message},
          {"at", r.at == SystemTime{} ? std::string() : formatRfc3339(r.at)},
          {"details", r.details}};
}

}  // namespace aksnode
