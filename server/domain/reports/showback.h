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

// One rollup_focus_daily row: a FOCUS line item (per day and run), or, when unpriced_reason is
// not empty, entries with no amount (listed apart, never in the FOCUS file).
struct FocusRow {
  absl::CivilDay day;
  std::string source;        // "ledger" or "quarantine"
  bool late = false;         // entered after the day was first rolled up
  bool after_close = false;  // entered after the provider's invoice for the month was imported
  absl::CivilMonth billing_month;
  std::string run, feature, team, tenant, workload_class, environment, kind, provider, model;
  std::string tool_name, attribution_status, attribution_reason, unpriced_reason;
  int64_t steps = 0, cost_nano_usd = 0, tokens = 0, tool_units = 0;
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
  std::vector<FocusRow> focus_rows;
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
  // The "(unattributed)" bucket (no tenant tag outside production): shown, never a tenant, so
  // never in the median and never a margin risk.
  bool unattributed = false;
};

// Unpriced entries with the same day, run and dimensions: no amount, counted and listed.
struct UnpricedLine {
  absl::CivilDay day;
  std::string source;  // "ledger" or "quarantine"
  std::string run, feature, team, tenant, environment, kind, provider, model, tool_name, reason;
  int64_t steps = 0, tokens = 0;
};

// One budget cap over the report period: budget, spend so far, the daily burn rate and where
// spend lands at the period's end if the burn rate holds.
struct CapLine {
  std::string scope, key;
  CapPeriod period = CapPeriod::kMonthly;
  int64_t limit_nano_usd = 0;
  int64_t budget_nano_usd = 0;  // the cap's share of [from, to]
  int64_t spend_nano_usd = 0;   // spend of the key in [from, through]
  int64_t elapsed_days = 0;     // days of [from, through]
  int64_t burn_nano_usd_per_day = 0;
  int64_t forecast_nano_usd = 0;  // burn rate x days of [from, to]
  bool forecast_over = false;     // forecast above budget
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
  int64_t quarantined_spend_nano_usd = 0;  // rejected events' reported cost (in the total)
  int64_t unpriced_steps = 0;
  int64_t unpriced_quarantined_events = 0;  // rejected events without a reported cost
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
  int64_t spend_nano_usd = 0;  // ledger, priced (the team lines add up to it)
  // The report's total: ledger spend + quarantined events' reported cost. Every format adds
  // up to it (team lines + quarantine lines; FOCUS BilledCost).
  int64_t total_spend_nano_usd = 0;
  std::vector<SpendLine> teams, features;  // by spend, descending
  std::vector<TenantLine> tenants;
  std::vector<ToolOwnerLine> tool_owners;
  DataQuality data_quality;
  std::vector<InvoiceLine> invoices;
  std::vector<CapLine> caps;                 // per non-shadow cap of the period's keys
  std::vector<UnpricedLine> unpriced;        // entries without an amount, largest count first
  std::vector<RollupRow> rows;               // as given (daily trends, model/provider views)
  std::vector<FocusRow> focus_rows;          // as given, for the FOCUS export
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
