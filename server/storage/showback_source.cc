#include "server/storage/showback_source.h"

#include <pqxx/pqxx>

#include "absl/time/time.h"
#include "server/storage/admin_audit.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"
#include "server/storage/rollup_queries.h"

namespace stepledger::storage {
namespace {

using domain::reports::BudgetCap;
using domain::reports::CapPeriod;
using domain::reports::FocusRow;
using domain::reports::Invoice;
using domain::reports::QuarantineRow;
using domain::reports::RollupRow;
using domain::reports::RunStats;
using domain::reports::ShowbackInputs;
using domain::reports::ToolOwnerRow;

absl::CivilDay ParseDate(const std::string& text) {
  absl::CivilDay d;
  // PostgreSQL prints dates as YYYY-MM-DD (ISO DateStyle, the default): this cannot fail for
  // a `date` column read back as text.
  absl::ParseCivilTime(text, &d);
  return d;
}

}  // namespace

absl::StatusOr<ShowbackInputs> LoadShowbackInputs(const std::string& database_url,
                                                  absl::CivilDay from, absl::CivilDay to,
                                                  const std::string& environment) {
  ShowbackInputs in;
  in.from = from;
  in.to = to;
  in.through = from - 1;
  in.environment = environment;
  const std::string f = PgDate(from), t = PgDate(to);
  try {
    PgConnection conn(database_url);
    // One snapshot for every read, so the parts of the report agree with each other.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
    for (const auto& r : txn.exec_params(queries::kSelectRollupRows, f, t, environment)) {
      RollupRow row;
      row.day = ParseDate(r[0].as<std::string>());
      row.charge_class = r[1].as<std::string>();
      row.feature = r[2].as<std::string>();
      row.team = r[3].as<std::string>();
      row.tenant = r[4].as<std::string>();
      row.workload_class = r[5].as<std::string>();
      row.environment = r[6].as<std::string>();
      row.kind = r[7].as<std::string>();
      row.provider = r[8].as<std::string>();
      row.model = r[9].as<std::string>();
      row.attribution_status = r[10].as<std::string>();
      row.attribution_reason = r[11].as<std::string>();
      row.steps = r[12].as<int64_t>();
      row.unpriced_steps = r[13].as<int64_t>();
      row.cost_nano_usd = r[14].as<int64_t>();
      row.runs = r[15].as<int64_t>();
      row.input_uncached_tokens = r[16].as<int64_t>();
      row.cache_read_tokens = r[17].as<int64_t>();
      row.cache_write_tokens = r[18].as<int64_t>();
      row.output_tokens = r[19].as<int64_t>();
      row.reasoning_tokens = r[20].as<int64_t>();
      row.retry_steps = r[21].as<int64_t>();
      row.retry_cost_nano_usd = r[22].as<int64_t>();
      row.drift_steps = r[23].as<int64_t>();
      in.rows.push_back(std::move(row));
    }
    for (const auto& r : txn.exec_params(queries::kSelectToolOwnerRows, f, t, environment)) {
      in.tool_owner_rows.push_back(
          ToolOwnerRow{ParseDate(r[0].as<std::string>()), r[1].as<std::string>(),
                       r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>(),
                       r[5].as<std::string>(), r[6].as<int64_t>(), r[7].as<int64_t>()});
    }
    for (const auto& r : txn.exec_params(queries::kSelectQuarantineRows, f, t, environment)) {
      in.quarantine_rows.push_back(QuarantineRow{
          ParseDate(r[0].as<std::string>()), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<int64_t>(), r[5].as<int64_t>(), r[6].as<int64_t>()});
    }
    for (const auto& r : txn.exec_params(queries::kSelectFocusRows, f, t, environment)) {
      FocusRow row;
      row.day = ParseDate(r[0].as<std::string>());
      row.source = r[1].as<std::string>();
      row.late = r[2].as<bool>();
      row.after_close = r[3].as<bool>();
      row.billing_month = absl::CivilMonth(ParseDate(r[4].as<std::string>()));
      row.run = r[5].as<std::string>();
      row.feature = r[6].as<std::string>();
      row.team = r[7].as<std::string>();
      row.tenant = r[8].as<std::string>();
      row.workload_class = r[9].as<std::string>();
      row.environment = r[10].as<std::string>();
      row.kind = r[11].as<std::string>();
      row.provider = r[12].as<std::string>();
      row.model = r[13].as<std::string>();
      row.tool_name = r[14].as<std::string>();
      row.attribution_status = r[15].as<std::string>();
      row.attribution_reason = r[16].as<std::string>();
      row.unpriced_reason = r[17].as<std::string>();
      row.steps = r[18].as<int64_t>();
      row.cost_nano_usd = r[19].as<int64_t>();
      row.tokens = r[20].as<int64_t>();
      row.tool_units = r[21].as<int64_t>();
      in.focus_rows.push_back(std::move(row));
    }
    pqxx::row last = txn.exec_params1(queries::kSelectLastRolledDay, f, t);
    if (!last[0].is_null()) in.through = ParseDate(last[0].as<std::string>());
    for (const auto& r : txn.exec_params(queries::kSelectMissingDays, f, t)) {
      in.missing_days.push_back(ParseDate(r[0].as<std::string>()));
    }
    for (const auto& r : txn.exec_params(queries::kSelectRunStats, f + " 00:00:00+00",
                                         PgDate(to + 1) + " 00:00:00+00", environment)) {
      in.run_stats.push_back(RunStats{r[0].as<std::string>(), r[1].as<std::string>(),
                                      r[2].as<int64_t>(), r[3].as<int64_t>(), r[4].as<int64_t>()});
    }
    in.budgets_available = txn.exec1(queries::kBudgetsTableExists)[0].as<bool>();
    if (in.budgets_available) {
      for (const auto& r : txn.exec_params(queries::kSelectBudgets, environment)) {
        in.budgets.push_back(
            BudgetCap{r[0].as<std::string>(), r[1].as<std::string>(),
                      r[2].as<std::string>() == "daily" ? CapPeriod::kDaily : CapPeriod::kMonthly,
                      r[3].as<int64_t>()});
      }
    }
    for (const auto& r : txn.exec_params(queries::kSelectInvoices, f, t)) {
      in.invoices.push_back(Invoice{r[0].as<std::string>(),
                                    absl::CivilMonth(ParseDate(r[1].as<std::string>())),
                                    r[2].as<int64_t>()});
    }
    txn.commit();
  } catch (...) {
    return CurrentExceptionToStatus("load showback");
  }
  return in;
}

absl::Status ImportInvoices(const std::string& database_url,
                            const std::vector<domain::reports::Invoice>& invoices,
                            const std::string& source, const domain::auth::AuditActor& actor) {
  try {
    PgConnection conn(database_url);
    pqxx::work txn(conn);
    nlohmann::json months = nlohmann::json::array();
    std::string provider;
    for (const domain::reports::Invoice& invoice : invoices) {
      txn.exec_params(queries::kUpsertInvoice, invoice.provider,
                      PgDate(absl::CivilDay(invoice.month)), invoice.amount_nano_usd, source);
      provider = invoice.provider;
      months.push_back({{"month", PgDate(absl::CivilDay(invoice.month)).substr(0, 7)},
                        {"amount_nano_usd", invoice.amount_nano_usd}});
    }
    RecordAdminAudit(txn, "import_invoice", actor,
                     {{"provider", provider}, {"source", source}, {"months", months}});
    txn.commit();
  } catch (...) {
    return CurrentExceptionToStatus("import invoice");
  }
  return absl::OkStatus();
}

}  // namespace stepledger::storage
