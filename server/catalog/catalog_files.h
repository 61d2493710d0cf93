// Reads catalog files from disk and assembles a PriceVersion from them. The one place in the
// catalog library that does I/O, so the parsers stay testable on strings.
//
// Thread safety: functions are safe to call concurrently; they share no state.
#ifndef STEPLEDGER_SERVER_CATALOG_CATALOG_FILES_H_
#define STEPLEDGER_SERVER_CATALOG_CATALOG_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/pricing/price_book.h"

namespace stepledger::catalog {

// Whole file as bytes. NotFound when it does not exist, PermissionDenied or Unavailable for
// other open/read failures; the message names the path.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// Loads a LiteLLM model price map and (when tool_prices_path is not empty) a tool price file
// into one version. Errors carry the path in front of the loader's message.
// REQUIRES: !id.empty().
absl::StatusOr<domain::pricing::PriceVersion> LoadPriceVersionFromFiles(
    std::string id, absl::Time effective_from, const std::string& model_prices_path,
    const std::string& tool_prices_path);

}  // namespace stepledger::catalog

#endif  // STEPLEDGER_SERVER_CATALOG_CATALOG_FILES_H_
