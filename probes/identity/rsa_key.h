#pragma once
// RSA public keys from JWK members and RS256 (RSASSA-PKCS1-v1_5 with SHA-256) verification,
// with OpenSSL 3's provider API (EVP_PKEY_fromdata, EVP_DigestVerify): no deprecated
// RSA_* calls.
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace aksnode::identity {

using PublicKey = std::shared_ptr<EVP_PKEY>;

// Key sizes we accept from an issuer: below 2048 bits is not a key a cluster should sign
// with, above 16384 only costs CPU.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;

// From the big-endian modulus and exponent bytes (JWK "n" and "e" after base64url).
// A failure saying why when the numbers are not a sane RSA public key; a success never
// holds nullptr.
Result<PublicKey> rsaPublicKeyFromComponents(std::string_view modulus, std::string_view exponent);

// True only for a valid RS256 signature of `signingInput` by `key`. Never throws; clears
// OpenSSL's error queue so a failed verification cannot leak into a later TLS call.
bool verifyRs256(EVP_PKEY* key, std::string_view signingInput, std::string_view signature);

}  // namespace aksnode::identity
