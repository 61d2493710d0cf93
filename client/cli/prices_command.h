// `stepledger prices`: look at prices and correct past costs, through the collector (Admin
// service: QuotePrice, ListUnpriced, StartReprice + GetOperation, LoadPriceCatalog).
//
//   stepledger prices show MODEL [--provider P] [--catalog FILE]
//   stepledger prices quote MODEL --input N --output N [--cache-read N] [--cache-write N]
//                                 [--reasoning N] [--tier T] [--provider P] [--catalog FILE]
//   stepledger prices unpriced [--since T] [--until T]
//   stepledger prices reprice --since T [--until T] [--dry-run]
//   stepledger prices load --catalog FILE [--tool-prices FILE]
//
// `show` and `quote` use the price version in force in the collector, or the LiteLLM JSON
// catalog given with --catalog (else $STEPLEDGER_PRICE_CATALOG), which is sent to the
// collector and priced there by the same rules as steps. Re-pricing never edits a stored
// cost; it adds correction entries (docs/PRICING.md, "Re-pricing").
//
// Exit status: 0 done, 3 collector unreachable or failed, 4 model not in the catalog, 64 usage
// error, 65 catalog malformed, 66 catalog not readable.
//
// Thread safety: stateless; see CliContext.
#ifndef STEPLEDGER_CLIENT_CLI_PRICES_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_PRICES_COMMAND_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/cli/cli_context.h"

namespace stepledger::client {

// What the command takes from the environment; RunPricesCommand reads it, tests pass it.
struct PricesEnvironment {
  std::string price_catalog;  // $STEPLEDGER_PRICE_CATALOG
  absl::Time now;             // for relative --since values ("24h", "7d")
};

int RunPrices(const CliContext& context, const std::vector<std::string>& args,
              const PricesEnvironment& env);

// The command table entry: RunPrices with the process's environment and clock.
int RunPricesCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_PRICES_COMMAND_H_
