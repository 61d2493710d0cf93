#include "client/lib/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace stepledger::client {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

absl::StatusOr<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, "=", path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sends the key on every call. Its minimum security level is NONE so that it also goes over the
// collector's plaintext --insecure (loopback) listener; with TLS it travels encrypted.
class ApiKeyPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit ApiKeyPlugin(std::string value) : value_(std::move(value)) {}
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    if (!error_.empty()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, error_);
    metadata->insert({"authorization", value_});
    return grpc::Status::OK;
  }
  bool IsBlocking() const override { return false; }
  static std::unique_ptr<ApiKeyPlugin> Failing(std::string error) {
    auto p = std::make_unique<ApiKeyPlugin>("");
    p->error_ = std::move(error);
    return p;
  }

 private:
  std::string value_;
  std::string error_;
};

}  // namespace

absl::StatusOr<ConnectionOptions> ConnectionOptionsFromEnvironment() {
  ConnectionOptions out{.ca_cert_path = Env("STEPLEDGER_CA_CERT"),
                        .client_cert_path = Env("STEPLEDGER_CLIENT_CERT"),
                        .client_key_path = Env("STEPLEDGER_CLIENT_KEY"),
                        .api_key = Env("STEPLEDGER_API_KEY")};
  if (out.api_key.empty() && !Env("STEPLEDGER_API_KEY_FILE").empty()) {
    absl::StatusOr<std::string> key =
        ReadFile("STEPLEDGER_API_KEY_FILE", Env("STEPLEDGER_API_KEY_FILE"));
    if (!key.ok()) return key.status();
    out.api_key = *key;
  }
  out.api_key = std::string(absl::StripAsciiWhitespace(out.api_key));
  return out;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CollectorCredentials(
    const ConnectionOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> channel = grpc::InsecureChannelCredentials();
  if (!options.ca_cert_path.empty()) {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadFile("STEPLEDGER_CA_CERT", options.ca_cert_path);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    if (!options.client_cert_path.empty()) {
      absl::StatusOr<std::string> cert =
          ReadFile("STEPLEDGER_CLIENT_CERT", options.client_cert_path);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile("STEPLEDGER_CLIENT_KEY", options.client_key_path);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    channel = grpc::SslCredentials(ssl);
  }
  if (options.api_key.empty()) return channel;
  // gRPC refuses call credentials on insecure channel credentials ("Invalid credentials"); local
  // credentials carry them, and reach only a loopback address, which is where a plaintext
  // (--insecure) collector listens.
  if (options.ca_cert_path.empty()) channel = grpc::experimental::LocalCredentials(LOCAL_TCP);
  return grpc::CompositeChannelCredentials(
      channel,
      grpc::experimental::MetadataCredentialsFromPlugin(
          std::make_unique<ApiKeyPlugin>("Bearer " + options.api_key), GRPC_SECURITY_NONE));
}

std::shared_ptr<grpc::ChannelCredentials> CollectorCredentialsFromEnvironment() {
  absl::StatusOr<ConnectionOptions> options = ConnectionOptionsFromEnvironment();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      options.ok() ? CollectorCredentials(*options)
                   : absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>(options.status());
  if (credentials.ok()) return *credentials;
  return grpc::CompositeChannelCredentials(
      grpc::InsecureChannelCredentials(),
      grpc::experimental::MetadataCredentialsFromPlugin(
          ApiKeyPlugin::Failing(std::string(credentials.status().message())), GRPC_SECURITY_NONE));
}

}  // namespace stepledger::client
