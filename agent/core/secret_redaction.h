#pragma once
// Every credential the agent holds (the API server bearer token, the workload identity token
// and its signature, the client assertion sent to Entra ID) is registered here, and every piece
// of outside text is passed through redactSecrets() before it is logged (agent/core/logging.cpp),
// served (/status, /readyz) or written to the Node or its Events.
//
// Outside text cannot be trusted to quote a secret intact: an API server or proxy may echo the
// Authorization header in an error message cut to a length, wrapped over lines or split by
// spaces. So a match is any run of at least kWindow characters of a secret, ignoring
// whitespace (space, tab, CR, LF) inside the text; every such run becomes "[redacted]".
// Thread-safe (disk worker threads log too).
#include <cstddef>
#include <string>
#include <string_view>

namespace aksnode::secrets {

// 16 characters of base64 are 96 bits: never found in text by chance, yet short enough to catch
// a token cut after its first line.
inline constexpr std::size_t kWindow = 16;
// Secrets shorter than this are not credentials the agent could hold (and would redact
// ordinary words).
inline constexpr std::size_t kMinSecretLength = 8;

// Registers the current value of a credential. `slot` names it ("kube-token",
// "identity-token"); a slot keeps its last few values, since an old token may still be echoed.
void remember(std::string_view slot, std::string_view secret);

// `text` with every run of a registered secret replaced by "[redacted]".
std::string redactSecrets(std::string_view text);
// True if redactSecrets would change the text (for tests and fast paths).
bool containsSecret(std::string_view text);

// Tests only: forget every secret.
void forgetAllForTests();

}  // namespace aksnode::secrets
