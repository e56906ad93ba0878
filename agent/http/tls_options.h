#pragma once
#include <string>

namespace aksnode {

// How an HttpClientImpl verifies and authenticates TLS peers. Verification is always on:
// there is no "insecure" switch. An empty CA means the system trust store.
struct TlsOptions {
  std::string caFile;
  std::string caPem;  // inline CA (kubeconfig certificate-authority-data)
  std::string clientCertFile;
  std::string clientKeyFile;
  std::string clientCertPem;
  std::string clientKeyPem;
};

}  // namespace aksnode
