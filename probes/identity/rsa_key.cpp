#include "probes/identity/rsa_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

namespace aksnode::identity {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

// Leaves OpenSSL's thread-local error queue empty on every return path.
struct ClearErrorsOnExit {
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

BignumPtr toBignum(std::string_view bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

}  // namespace

Result<PublicKey> rsaPublicKeyFromComponents(std::string_view modulus, std::string_view exponent) {
  using Key = Result<PublicKey>;
  ClearErrorsOnExit clearErrors;
  if (modulus.empty() || exponent.empty()) return Key::failure("empty modulus or exponent");
  // Bound the sizes before handing them to BN_bin2bn (an int length).
  if (modulus.size() > kMaxRsaBits / 8 + 1 || exponent.size() > 8) {
    return Key::failure("modulus or exponent too large");
  }
  BignumPtr n = toBignum(modulus);
  BignumPtr e = toBignum(exponent);
  if (!n || !e) return Key::failure("out of memory");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Key::failure("RSA modulus of " + std::to_string(bits) + " bits (accepted: " +
                        std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) + ")");
  }
  if (!BN_is_odd(e.get()) || BN_is_one(e.get())) {
    return Key::failure("RSA exponent is not an odd number above 1");
  }

  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Key::failure("cannot build key parameters");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return Key::failure("cannot create an RSA key context");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) {
    return Key::failure("OpenSSL rejected the RSA public key");
  }
  return Key::success(PublicKey(raw, EVP_PKEY_free));
}

bool verifyRs256(EVP_PKEY* key, std::string_view signingInput, std::string_view signature) {
  ClearErrorsOnExit clearErrors;
  if (key == nullptr || signature.empty()) return false;
  // PKCS#1 v1.5 signatures are exactly the modulus size; anything else is not one.
  if (static_cast<int>(signature.size()) != EVP_PKEY_get_size(key)) return false;
  MdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signingInput.data()),
                          signingInput.size()) == 1;
}

}  // namespace aksnode::identity
