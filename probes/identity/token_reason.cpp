#include "probes/identity/token_reason.h"

#include <array>

namespace aksnode::identity {

const char* toString(TokenReason reason) {
  switch (reason) {
    case TokenReason::Ok: return "Ok";
    case TokenReason::EnvMissing: return "EnvMissing";
    case TokenReason::TokenFileMissing: return "TokenFileMissing";
    case TokenReason::TokenFileUnreadable: return "TokenFileUnreadable";
    case TokenReason::TokenMalformed: return "TokenMalformed";
    case TokenReason::TokenExpired: return "TokenExpired";
    case TokenReason::TokenNotYetValid: return "TokenNotYetValid";
    case TokenReason::AudienceMismatch: return "AudienceMismatch";
    case TokenReason::IssuerTrailingSlashMismatch: return "IssuerTrailingSlashMismatch";
    case TokenReason::IssuerMismatch: return "IssuerMismatch";
    case TokenReason::SubjectMismatch: return "SubjectMismatch";
    case TokenReason::SignatureInvalid: return "SignatureInvalid";
    case TokenReason::KeyNotFound: return "KeyNotFound";
    case TokenReason::DiscoveryFailed: return "DiscoveryFailed";
    case TokenReason::NotRotated: return "NotRotated";
    case TokenReason::TokenExpiringSoon: return "TokenExpiringSoon";
  }
  return "Unknown";
}

std::span<const TokenReason> allTokenReasons() {
  static constexpr std::array kAll = {
      TokenReason::Ok,
      TokenReason::EnvMissing,
      TokenReason::TokenFileMissing,
      TokenReason::TokenFileUnreadable,
      TokenReason::TokenMalformed,
      TokenReason::TokenExpired,
      TokenReason::TokenNotYetValid,
      TokenReason::AudienceMismatch,
      TokenReason::IssuerTrailingSlashMismatch,
      TokenReason::IssuerMismatch,
      TokenReason::SubjectMismatch,
      TokenReason::SignatureInvalid,
      TokenReason::KeyNotFound,
      TokenReason::DiscoveryFailed,
      TokenReason::NotRotated,
      TokenReason::TokenExpiringSoon,
  };
  return kAll;
}

bool isSoftFailure(TokenReason reason) {
  return reason == TokenReason::NotRotated || reason == TokenReason::TokenExpiringSoon;
}

}  // namespace aksnode::identity
