// The showback/chargeback report: built from rollup rows, budgets, run statistics and
// invoices (ShowbackInputs, loaded by storage/), with no I/O of its own.
//
// Spend is priced spend in nano-USD; unpriced steps are counted, never guessed. The report
// covers [from, to] (UTC days, inclusive); `through` is the last day in the period that has
// been rolled up, and the prorated budget covers [from, through].
//
// Thread safety: plain values; BuildShowback is a pure function.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/reports/budget_math.h"

namespace stepledger::domain::reports {

// Statuses whose spend nobody could be charged for.
inline constexpr char kStatusQuarantined[] = "quarantined";
inline constexpr char kStatusDefaulted[] = "defaulted";
inline constexpr char kStatusPending[] = "pending";
inline constexpr char kChargeClassCorrection[] = "Correction";

// Above this many times the median tenant spend, a tenant is a margin risk.
inline constexpr int64_t kMarginRiskMultiple = 10;
// An attributed-vs-invoiced gap above this share is a bug to fix, not rounding.
inline constexpr double kInvoiceGapThreshold = 0.05;

// One rollup_daily row.
struct RollupRow {
  absl::CivilDay day;
  std::string charge_class;  // "" or "Correction"
  std::string feature, team, tenant, workload_class, environment, kind, provider, model;
  std::string attribution_status, attribution_reason;
  int64_t steps = 0, unpriced_steps = 0, cost_nano_usd = 0, runs = 0;
  int64_t input_uncached_tokens = 0, cache_read_tokens = 0, cache_write_tokens = 0;
  int64_t output_tokens = 0, reasoning_tokens = 0;
  int64_t retry_steps = 0, retry_cost_nano_usd = 0, drift_steps = 0;
};

struct ToolOwnerRow {
  absl::CivilDay day;
  std::string charge_class, tool_owner_team, charged_team, charged_feature, environment;
  int64_t steps = 0, cost_nano_usd = 0;
};

struct QuarantineRow {
  absl::CivilDay day;
  std::string charge_class, reason, environment;
  int64_t events = 0, unpriced_events = 0, cost_nano_usd = 0;
};

// Runs first seen in the period, per charged team or feature.
struct RunStats {
  std::string scope;  // "team" or "feature"
  std::string key;
  int64_t runs = 0, p50_nano_usd = 0, p95_nano_usd = 0;
};

struct BudgetCap {
  std::string scope;  // "team", "feature", "tenant", "org"
  std::string key;
  CapPeriod period = CapPeriod::kMonthly;
  int64_t limit_nano_usd = 0;
};

struct Invoice {
  std::string provider;
  absl::CivilMonth month;
  int64_t amount_nano_usd = 0;
};

struct ShowbackInputs {
  absl::CivilDay from, to;
  absl::CivilDay through;   // last rolled-up day in [from, to]; from - 1 when none
  std::string environment;  // "" = all
  std::vector<RollupRow> rows;
  std::vector<ToolOwnerRow> tool_owner_rows;
  std::vector<QuarantineRow> quarantine_rows;
  std::vector<RunStats> run_stats;
  bool budgets_available = false;  // the budgets table exists
  std::vector<BudgetCap> budgets;
  std::vector<Invoice> invoices;
  // Days of [from, min(to, today)] never rolled up: their spend is missing from the rows.
  std::vector<absl::CivilDay> missing_days;
};

struct SpendLine {
  std::string key;
  int64_t spend_nano_usd = 0;
  int64_t steps = 0, unpriced_steps = 0;
  bool has_budget = false;
  int64_t budget_nano_usd = 0;           // for the whole period
  int64_t prorated_budget_nano_usd = 0;  // for [from, through]
  Variance variance;
  int64_t runs = 0, run_cost_p50_nano_usd = 0, run_cost_p95_nano_usd = 0;
  int64_t retry_steps = 0, retry_spend_nano_usd = 0;
  std::vector<std::pair<std::string, int64_t>> top_models;  // at most 3, by spend
};

struct TenantLine {
  std::string tenant;
  int64_t spend_nano_usd = 0;
  double share = 0;
  bool margin_risk = false;
};

struct ToolOwnerLine {
  std::string tool_owner_team, charged_team, charged_feature;
  int64_t steps = 0, spend_nano_usd = 0;
};

struct UnattributedLine {
  std::string source;  // "ledger" or "quarantine"
  std::string reason;  // attribution status/reason, or the quarantine reason
  int64_t count = 0, spend_nano_usd = 0;
  double share = 0;  // of all spend (ledger + quarantined)
};

struct DataQuality {
  int64_t total_spend_nano_usd = 0;  // ledger spend + quarantined reported cost
  int64_t unattributed_spend_nano_usd = 0;
  double unattributed_share = 0;
  std::vector<UnattributedLine> unattributed;
  int64_t unpriced_steps = 0;
  int64_t drift_steps = 0;
  int64_t pending_steps = 0, pending_spend_nano_usd = 0;
  int64_t correction_spend_nano_usd = 0;  // arrived after its day was rolled up
};

struct InvoiceLine {
  std::string provider;
  absl::CivilMonth month;
  int64_t invoiced_nano_usd = 0, attributed_nano_usd = 0, gap_nano_usd = 0;
  double gap_share = 0;  // (invoiced - attributed) / invoiced
  bool flagged = false;
};

struct ShowbackReport {
  absl::CivilDay from, to, through;
  std::string environment;
  absl::Time generated_at;
  bool budgets_available = false;
  int64_t spend_nano_usd = 0;              // ledger, priced
  std::vector<SpendLine> teams, features;  // by spend, descending
  std::vector<TenantLine> tenants;
  std::vector<ToolOwnerLine> tool_owners;
  DataQuality data_quality;
  std::vector<InvoiceLine> invoices;
  std::vector<RollupRow> rows;               // as given, for the FOCUS export
  std::vector<absl::CivilDay> missing_days;  // as given: not rolled up, not in the figures
};

// The unattributed share: unattributed / total, where the total includes the unattributed.
double UnattributedShare(int64_t unattributed_nano_usd, int64_t total_nano_usd);

// The invoice line for one provider and month.
InvoiceLine ReconcileInvoice(const Invoice& invoice, int64_t attributed_nano_usd);

ShowbackReport BuildShowback(const ShowbackInputs& inputs, absl::Time generated_at);

// The UTC days that `invoices`' months cover, from the first day of the earliest to the last
// day of the latest (the period whose inputs ReconcileImported needs). REQUIRES: not empty.
std::pair<absl::CivilDay, absl::CivilDay> InvoicedDays(const std::vector<Invoice>& invoices);

// After an import: the invoice lines of `invoices` (one provider's months) against what the
// ledger attributed, by the same rule as the showback report. `inputs` cover InvoicedDays()
// and hold the stored invoices.
std::vector<InvoiceLine> ReconcileImported(const ShowbackInputs& inputs,
                                           const std::vector<Invoice>& invoices);

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_H_
