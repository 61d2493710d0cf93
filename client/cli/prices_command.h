// `stepledger prices`: look at the price catalog and correct past costs.
//
//   stepledger prices show MODEL [--provider P] [--catalog FILE]
//   stepledger prices quote MODEL --input N --output N [--cache-read N] [--cache-write N]
//                                 [--reasoning N] [--tier T] [--provider P] [--catalog FILE]
//   stepledger prices unpriced [--since T] [--until T] [--database-url URL]
//   stepledger prices reprice --since T [--until T] [--dry-run] [--database-url URL]
//
// `show` and `quote` compute locally from a LiteLLM JSON catalog file (no collector, no
// database): --catalog, else $STEPLEDGER_PRICE_CATALOG, else
// ./catalog/model_prices_and_context_window.json. `unpriced` and `reprice` are admin commands
// that read (and, for reprice, write correction rows to) PostgreSQL directly:
// --database-url, else $STEPLEDGER_DATABASE_URL. Re-pricing never edits a stored cost; it
// adds correction entries (docs/PRICING.md, "Re-pricing").
//
// Exit status: 0 done, 4 model not in the catalog, 64 usage error, 66 catalog not readable,
// 65 catalog malformed, 69 database unavailable or failed.
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
  std::string database_url;   // $STEPLEDGER_DATABASE_URL
  absl::Time now;             // for relative --since values ("24h", "7d")
};

int RunPrices(const CliContext& context, const std::vector<std::string>& args,
              const PricesEnvironment& env);

// The command table entry: RunPrices with the process's environment and clock.
int RunPricesCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_PRICES_COMMAND_H_
