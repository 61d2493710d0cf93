#include "server/transport/server_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"

namespace stepledger::transport {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::StatusOr<File> Open(const std::string& flag, const std::string& path) {
  File f(std::fopen(path.c_str(), "r"));
  if (f == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(flag, "=", path, ": cannot read"));
  return f;
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files) {
  absl::StatusOr<File> cert_file = Open("--tls-cert", files.cert_path);
  if (!cert_file.ok()) return cert_file.status();
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(cert_file->get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert=", files.cert_path, ": not a PEM certificate"));
  }
  absl::StatusOr<File> key_file = Open("--tls-key", files.key_path);
  if (!key_file.ok()) return key_file.status();
  // The error never quotes the file: it holds the private key.
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_PrivateKey(key_file->get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key=", files.key_path, ": not an unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key=", files.key_path, ": does not belong to --tls-cert=", files.cert_path));
  }
  if (!files.client_ca_path.empty()) {
    absl::StatusOr<File> ca_file = Open("--tls-client-ca", files.client_ca_path);
    if (!ca_file.ok()) return ca_file.status();
    std::unique_ptr<X509, X509Free> ca(PEM_read_X509(ca_file->get(), nullptr, nullptr, nullptr));
    if (ca == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca=", files.client_ca_path, ": not a PEM certificate"));
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> TlsServerCredentialsFromFiles(const TlsFiles& files) {
  const auto interval =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(files.reload_interval)));
  // gRPC re-reads the files every `interval` and hands new handshakes the new pair; sessions
  // already established (and the streams on them) are not touched.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_path, files.cert_path, files.client_ca_path, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca_path.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    // A certificate is optional (API keys still work) but, when one is sent, it must verify.
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace stepledger::transport
