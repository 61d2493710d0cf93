#include "server/security/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace stepledger::security {
namespace {

constexpr std::string_view kPrefix = "slk_";
constexpr size_t kIdHex = 16;
constexpr size_t kSecretHex = 64;

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  // RAND_bytes fails only when the OS cannot supply entropy; a key from a weak source must
  // never be issued, so this is fatal rather than an error to handle.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::abort();
  }
  return absl::BytesToHexString(raw);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

KeyToken GenerateKey() {
  KeyToken key{.id = RandomHex(kIdHex / 2), .secret = RandomHex(kSecretHex / 2)};
  key.token = absl::StrCat(std::string(kPrefix), key.id, "_", key.secret);
  return key;
}

std::string GenerateCertificateId() { return absl::StrCat("crt", RandomHex(8).substr(0, 13)); }

absl::StatusOr<KeyToken> ParseToken(std::string_view token) {
  const size_t expected = kPrefix.size() + kIdHex + 1 + kSecretHex;
  if (token.size() != expected || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + kIdHex] != '_') {
    return absl::UnauthenticatedError("not a stepledger API key (slk_<id>_<secret>)");
  }
  KeyToken out{.id = std::string(token.substr(kPrefix.size(), kIdHex)),
               .secret = std::string(token.substr(kPrefix.size() + kIdHex + 1)),
               .token = std::string(token)};
  if (!IsLowerHex(out.id) || !IsLowerHex(out.secret)) {
    return absl::UnauthenticatedError("not a stepledger API key (slk_<id>_<secret>)");
  }
  return out;
}

std::string HashSecret(std::string_view secret) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

bool SameHash(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace stepledger::security
