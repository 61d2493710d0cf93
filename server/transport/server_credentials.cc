#include "server/transport/server_credentials.h"

#include <grpc/grpc.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace stepledger::transport {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, "=", path, ": cannot read"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Cert ParseCert(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TlsCertificateInfo Describe(X509* cert) {
  TlsCertificateInfo info;
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
  info.subject = subject;
  if (!info.subject.empty() && info.subject.front() == '/') info.subject.erase(0, 1);
  Bio out(BIO_new(BIO_s_mem()));
  if (ASN1_TIME_print(out.get(), X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    info.not_after.assign(data, static_cast<size_t>(size));
  }
  return info;
}

// The C++ face of gRPC's SSL server credentials with a certificate fetcher (the C++ API of
// gRPC 1.51 offers no such constructor). It overrides ServerCredentials' private hooks, which
// is how gRPC's own credential types plug in.
class FetcherServerCredentials final : public grpc::ServerCredentials {
 public:
  FetcherServerCredentials(grpc_server_credentials* creds, std::shared_ptr<void> keep_alive)
      : creds_(creds), keep_alive_(std::move(keep_alive)) {}
  ~FetcherServerCredentials() override { grpc_server_credentials_release(creds_); }
  // Identity comes from the API key or the verified certificate (transport/authorizer.h), not
  // from a metadata processor.
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* creds_;
  std::shared_ptr<void> keep_alive_;  // the fetcher's user data
};

}  // namespace

absl::StatusOr<std::pair<TlsCertificates::Pem, TlsCertificateInfo>> TlsCertificates::Read(
    const TlsFiles& files) {
  Pem pem;
  absl::StatusOr<std::string> cert_pem = ReadFile("--tls-cert", files.cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  pem.cert = *std::move(cert_pem);
  Cert cert = ParseCert(pem.cert);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert=", files.cert_path, ": not a PEM certificate"));
  }
  absl::StatusOr<std::string> key_pem = ReadFile("--tls-key", files.key_path);
  if (!key_pem.ok()) return key_pem.status();
  pem.key = *std::move(key_pem);
  // The errors never quote the file: it holds the private key.
  Bio key_bio = MemoryBio(pem.key);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key=", files.key_path, ": not an unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key=", files.key_path, ": does not belong to --tls-cert=", files.cert_path));
  }
  if (!files.client_ca_path.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadFile("--tls-client-ca", files.client_ca_path);
    if (!ca_pem.ok()) return ca_pem.status();
    pem.client_ca = *std::move(ca_pem);
    if (ParseCert(pem.client_ca) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca=", files.client_ca_path, ": not a PEM certificate"));
    }
  }
  return std::pair{std::move(pem), Describe(cert.get())};
}

absl::StatusOr<std::shared_ptr<TlsCertificates>> TlsCertificates::Load(TlsFiles files) {
  std::shared_ptr<TlsCertificates> out(new TlsCertificates(std::move(files)));
  absl::StatusOr<std::optional<TlsCertificateInfo>> loaded = out->Reload();
  if (!loaded.ok()) return loaded.status();
  return out;
}

absl::StatusOr<std::optional<TlsCertificateInfo>> TlsCertificates::Reload() {
  absl::StatusOr<std::pair<Pem, TlsCertificateInfo>> read = Read(files_);
  if (!read.ok()) return read.status();
  absl::MutexLock lock(&mu_);
  if (generation_ > 0 && read->first == pem_) return std::nullopt;
  pem_ = std::move(read->first);
  info_ = std::move(read->second);
  ++generation_;
  return info_;
}

TlsCertificateInfo TlsCertificates::served() const {
  absl::MutexLock lock(&mu_);
  return info_;
}

grpc_ssl_certificate_config_reload_status TlsCertificates::Fetch(
    void* user_data, grpc_ssl_server_certificate_config** config) {
  auto* self = static_cast<TlsCertificates*>(user_data);
  absl::MutexLock lock(&self->mu_);
  if (self->served_generation_ == self->generation_) {
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  }
  // gRPC copies the strings. It asserts that a fetched config has root certificates even when no
  // client certificate is asked for; without a client CA the server's own chain stands in, and
  // is never used (GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE).
  const grpc_ssl_pem_key_cert_pair pair{self->pem_.key.c_str(), self->pem_.cert.c_str()};
  const std::string& roots = self->pem_.client_ca.empty() ? self->pem_.cert : self->pem_.client_ca;
  *config = grpc_ssl_server_certificate_config_create(roots.c_str(), &pair, 1);
  self->served_generation_ = self->generation_;
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

std::shared_ptr<grpc::ServerCredentials> TlsCertificates::ServerCredentials() {
  // With a client CA a certificate is optional (API keys still work) but, when one is sent, it
  // must verify.
  const grpc_ssl_client_certificate_request_type request =
      files_.client_ca_path.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                    : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  grpc_ssl_server_credentials_options* options =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(request, &Fetch, this);
  // Takes ownership of `options`.
  grpc_server_credentials* creds = grpc_ssl_server_credentials_create_with_options(options);
  return std::make_shared<FetcherServerCredentials>(creds, shared_from_this());
}

}  // namespace stepledger::transport
