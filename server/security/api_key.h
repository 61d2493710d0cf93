// The API key token: "slk_<id>_<secret>", where <id> is 16 lower-case hex digits (public: it
// names the key in lists, logs and audit rows) and <secret> 64 lower-case hex digits (256
// random bits, shown once at creation and never stored: only its SHA-256 is). Because the
// secret is random and long, a plain SHA-256 is enough; there is nothing to brute-force.
// An operator can make a bootstrap key without the collector:
//   echo "slk_$(openssl rand -hex 8)_$(openssl rand -hex 32)"
#ifndef STEPLEDGER_SERVER_SECURITY_API_KEY_H_
#define STEPLEDGER_SERVER_SECURITY_API_KEY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace stepledger::security {

struct KeyToken {
  std::string id;
  std::string secret;
  std::string token;  // What the client sends: "slk_<id>_<secret>".
};

// A fresh key from the operating system's random source.
KeyToken GenerateKey();
// A fresh public id for a certificate identity ("crt" + 13 hex digits).
std::string GenerateCertificateId();
// Unauthenticated for anything but the form above; the message never repeats the input.
absl::StatusOr<KeyToken> ParseToken(std::string_view token);
// SHA-256 of the secret, 32 raw bytes.
std::string HashSecret(std::string_view secret);
// Compares two hashes in time independent of where they differ.
bool SameHash(std::string_view a, std::string_view b);

}  // namespace stepledger::security

#endif  // STEPLEDGER_SERVER_SECURITY_API_KEY_H_
