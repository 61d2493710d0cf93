// Price administration as plain values: a catalog load (CatalogTexts), a stored price
// version (PriceVersionInfo), unpriced steps grouped (UnpricedGroup) and a re-pricing run
// (Correction, RepriceReport). storage::PgPriceStore produces them; Admin.LoadPriceCatalog,
// ListUnpriced and Reprice return them. Plain values; copy freely.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_ADMIN_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_ADMIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/domain/step.h"

namespace stepledger::domain::pricing {

// The texts of one catalog load and where they came from.
struct CatalogTexts {
  std::string model_source;  // path, for the record
  std::string model_text;    // LiteLLM JSON
  std::string tool_source;   // "" when there is no tool price file
  std::string tool_text;
};

struct PriceVersionInfo {
  std::string id;
  absl::Time effective_from;
  absl::Time loaded_at;
  std::string model_source;
  std::string tool_source;
  std::string checksum;
  int64_t model_count = 0;
  int64_t tool_count = 0;
  bool created = false;  // SaveVersion: false when the newest version already had these texts
};

struct UnpricedGroup {
  std::string model;
  std::string tool_name;
  std::string reason;  // stored unpriced_reason; "" for steps stored before migration 0003
  int64_t steps = 0;
  absl::Time first_seen;
  absl::Time last_seen;
};

struct Correction {
  std::string event_id;
  absl::Time occurred_at;
  std::string parent_run_id;
  std::string model;  // or the tool name for tool steps
  std::optional<NanoUsd> old_cost_nano_usd;
  NanoUsd new_cost_nano_usd = 0;
  NanoUsd delta_nano_usd = 0;
  std::string price_version;
  std::string reason;
};

struct RepriceReport {
  std::vector<Correction> corrections;  // made (or, in a dry run, that would be made)
  NanoUsd total_delta_nano_usd = 0;
  int64_t examined = 0;        // steps without a reported cost in the range
  int64_t still_unpriced = 0;  // left without a cost
  bool dry_run = false;
};

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_ADMIN_H_
