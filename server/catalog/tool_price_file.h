// Loader for stepledger's tool price files (format in docs/PRICING.md):
//
//   # tool_name      per_call_usd  per_1k_units_usd  unit_name
//   web_search       0.01          0                 -
//   cohere_rerank    0             0.02              documents
//
// One tool per line, four whitespace-separated fields; `#` starts a comment that runs to the
// end of the line; blank lines are ignored. Prices are decimal USD (exponents allowed),
// converted exactly to FemtoUsd. unit_name is `-` when units are not billed, and required
// otherwise. Tool names are [A-Za-z0-9._:/-]+ and unique.
//
// Thread safety: pure function.
#ifndef STEPLEDGER_SERVER_CATALOG_TOOL_PRICE_FILE_H_
#define STEPLEDGER_SERVER_CATALOG_TOOL_PRICE_FILE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/pricing/tool_price.h"

namespace stepledger::catalog {

using ToolPriceMap = absl::flat_hash_map<std::string, domain::pricing::ToolPrice>;

// Errors: InvalidArgument naming the line number and the field ("line 4: per_call_usd: ...").
absl::StatusOr<ToolPriceMap> LoadToolPriceFile(absl::string_view text);

}  // namespace stepledger::catalog

#endif  // STEPLEDGER_SERVER_CATALOG_TOOL_PRICE_FILE_H_
