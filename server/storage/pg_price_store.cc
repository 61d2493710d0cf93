#include "server/storage/pg_price_store.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/catalog/litellm_price_map.h"
#include "server/catalog/tool_price_file.h"
#include "server/domain/pricing/reprice.h"
#include "server/storage/admin_audit.h"
#include "server/storage/copy_text.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {
namespace {

namespace pricing = domain::pricing;

// Serialises version saves (two replicas loading the same files at once make one version)
// and reprice runs (two runs never both correct the same step).
constexpr int64_t kPriceVersionsLockKey = 0x5354504c50524943;  // "STPLPRIC"
constexpr int64_t kRepriceLockKey = 0x5354504c52505243;        // "STPLRPRC"

// Checksum of a catalog pair, computed by PostgreSQL (no crypto library in this process).
constexpr char kChecksum[] = R"sql(
  SELECT encode(sha256(sha256(convert_to($1, 'UTF8')) || sha256(convert_to($2, 'UTF8'))), 'hex')
)sql";

constexpr char kVersionColumns[] = R"sql(
  id, (EXTRACT(EPOCH FROM effective_from) * 1000000)::bigint,
  (EXTRACT(EPOCH FROM loaded_at) * 1000000)::bigint, model_source, tool_source, checksum,
  model_count, tool_count
)sql";

constexpr char kInsertVersion[] = R"sql(
  INSERT INTO price_versions (id, effective_from, loaded_at, model_source, tool_source,
                              checksum, model_catalog, tool_catalog, model_count, tool_count)
  VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10)
)sql";

constexpr char kLoadVersions[] = R"sql(
  SELECT id, (EXTRACT(EPOCH FROM effective_from) * 1000000)::bigint, model_catalog, tool_catalog
  FROM price_versions ORDER BY effective_from
)sql";

constexpr char kVersionsStamp[] = R"sql(
  SELECT count(*)::text || '/' ||
         COALESCE((SELECT id FROM price_versions ORDER BY effective_from DESC LIMIT 1), '')
  FROM price_versions
)sql";

// Unpriced steps that no correction has priced since. $1, $2: [since, until).
constexpr char kListUnpriced[] = R"sql(
  SELECT s.model, s.tool_name, s.unpriced_reason, count(*),
         (EXTRACT(EPOCH FROM min(s.occurred_at)) * 1000000)::bigint,
         (EXTRACT(EPOCH FROM max(s.occurred_at)) * 1000000)::bigint
  FROM steps s
  WHERE s.cost_source = 'unpriced' AND s.occurred_at >= $1::timestamptz
    AND s.occurred_at < $2::timestamptz
    AND NOT EXISTS (SELECT 1 FROM cost_corrections c WHERE c.event_id = s.event_id)
  GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3
  LIMIT 1000
)sql";

// Steps without a reported cost in [since, until), with their corrections so far.
constexpr char kRepriceCandidates[] = R"sql(
  SELECT s.event_id, (EXTRACT(EPOCH FROM s.occurred_at) * 1000000)::bigint, s.parent_run_id,
         s.environment, s.charged_feature, s.charged_team, s.charged_workload_class,
         s.charged_tenant, s.kind, s.provider, s.model, s.input_uncached_tokens,
         s.cache_read_tokens, s.cache_write_tokens, s.output_tokens, s.reasoning_tokens,
         s.tool_name, s.cost_nano_usd, s.unpriced_reason, c.n, c.delta
  FROM steps s
  LEFT JOIN LATERAL (SELECT count(*) AS n, sum(delta_nano_usd)::bigint AS delta
                     FROM cost_corrections c WHERE c.event_id = s.event_id) c ON true
  WHERE s.occurred_at >= $1::timestamptz AND s.occurred_at < $2::timestamptz
    AND s.cost_source <> 'reported'
  ORDER BY s.occurred_at, s.event_id
)sql";

constexpr char kInsertCorrection[] = R"sql(
  INSERT INTO cost_corrections (event_id, occurred_at, parent_run_id, environment,
                                charged_feature, charged_team, charged_workload_class,
                                charged_tenant, old_cost_nano_usd, new_cost_nano_usd,
                                delta_nano_usd, price_version, reason)
  VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9::bigint, $10, $11, $12, $13)
  ON CONFLICT (parent_run_id, event_id, price_version) DO NOTHING
)sql";

absl::Time Micros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

std::optional<int64_t> OptionalInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

domain::StepKind ParseKind(const std::string& text) {
  for (domain::StepKind k :
       {domain::StepKind::kModelCall, domain::StepKind::kToolCall, domain::StepKind::kRetrieval,
        domain::StepKind::kEmbedding, domain::StepKind::kRerank}) {
    if (domain::ToString(k) == text) return k;
  }
  return domain::StepKind::kOther;
}

PriceVersionInfo ReadInfo(const pqxx::row& row) {
  PriceVersionInfo info;
  info.id = row[0].as<std::string>();
  info.effective_from = Micros(row[1]);
  info.loaded_at = Micros(row[2]);
  info.model_source = row[3].as<std::string>();
  info.tool_source = row[4].as<std::string>();
  info.checksum = row[5].as<std::string>();
  info.model_count = row[6].as<int64_t>();
  info.tool_count = row[7].as<int64_t>();
  return info;
}

struct ParsedCatalogs {
  absl::flat_hash_map<std::string, pricing::ModelPrice> models;
  catalog::ToolPriceMap tools;
};

absl::StatusOr<ParsedCatalogs> ParseCatalogs(const std::string& model_text,
                                             const std::string& tool_text) {
  ParsedCatalogs parsed;
  absl::StatusOr<catalog::LiteLlmPriceMap> models = catalog::LoadLiteLlmPriceMap(model_text);
  if (!models.ok()) return models.status();
  parsed.models = std::move(models->models);
  if (!tool_text.empty()) {
    absl::StatusOr<catalog::ToolPriceMap> tools = catalog::LoadToolPriceFile(tool_text);
    if (!tools.ok()) return tools.status();
    parsed.tools = std::move(*tools);
  }
  return parsed;
}

}  // namespace

PgPriceStore::PgPriceStore(std::string database_url) : database_url_(std::move(database_url)) {}

absl::StatusOr<PriceVersionInfo> PgPriceStore::SaveVersion(const CatalogTexts& texts,
                                                           absl::Time effective_from,
                                                           absl::Time loaded_at,
                                                           const domain::auth::AuditActor& actor) {
  absl::StatusOr<ParsedCatalogs> parsed = ParseCatalogs(texts.model_text, texts.tool_text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat("catalog not stored: ", parsed.status().message()));
  }
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kPriceVersionsLockKey);
    const std::string checksum =
        txn.exec_params1(kChecksum, texts.model_text, texts.tool_text)[0].as<std::string>();
    pqxx::result newest = txn.exec(absl::StrCat(
        "SELECT ", kVersionColumns, " FROM price_versions ORDER BY effective_from DESC LIMIT 1"));
    // Stored times have microsecond precision; keep the returned info equal to what is stored.
    absl::Time from = absl::FromUnixMicros(absl::ToUnixMicros(effective_from));
    if (!newest.empty()) {
      PriceVersionInfo latest = ReadInfo(newest[0]);
      if (latest.checksum == checksum) {
        txn.commit();
        return latest;  // created = false
      }
      // Append-only in time: never in force before (or together with) the newest version.
      from = std::max(from, latest.effective_from + absl::Microseconds(1));
    } else {
      // The first catalog is the only knowledge of prices before it: it is in force for
      // everything that occurred earlier too (late events, steps stored while no catalog was
      // configured), instead of leaving them unpriced for want of a version.
      from = absl::UnixEpoch();
    }
    PriceVersionInfo info;
    // Named by when it was loaded (the first version takes effect at the epoch) and what.
    info.id = absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%E6SZ", loaded_at, absl::UTCTimeZone()),
                           "-", checksum.substr(0, 12));
    info.effective_from = from;
    info.loaded_at = absl::FromUnixMicros(absl::ToUnixMicros(loaded_at));
    info.model_source = texts.model_source;
    info.tool_source = texts.tool_source;
    info.checksum = checksum;
    info.model_count = static_cast<int64_t>(parsed->models.size());
    info.tool_count = static_cast<int64_t>(parsed->tools.size());
    info.created = true;
    txn.exec_params(kInsertVersion, info.id, PgTimestamp(info.effective_from),
                    PgTimestamp(info.loaded_at), info.model_source, info.tool_source, info.checksum,
                    texts.model_text, texts.tool_text, info.model_count, info.tool_count);
    RecordAdminAudit(txn, "load_price_catalog", actor,
                     {{"version", info.id},
                      {"model_source", info.model_source},
                      {"tool_source", info.tool_source},
                      {"checksum", info.checksum},
                      {"models", info.model_count},
                      {"tools", info.tool_count}});
    txn.commit();
    return info;
  } catch (...) {
    return CurrentExceptionToStatus("save price version");
  }
}

absl::StatusOr<pricing::PriceBook> PgPriceStore::LoadBook() {
  pricing::PriceBook book;
  try {
    PgConnection conn(database_url_);
    pqxx::read_transaction txn(conn);
    pqxx::result rows = txn.exec(kLoadVersions);
    for (const auto& row : rows) {
      const std::string id = row[0].as<std::string>();
      absl::StatusOr<ParsedCatalogs> parsed =
          ParseCatalogs(row[2].as<std::string>(), row[3].as<std::string>());
      if (!parsed.ok()) {
        return absl::InternalError(absl::StrCat("stored price version \"", id,
                                                "\" no longer loads: ", parsed.status().message()));
      }
      pricing::PriceVersion version;
      version.id = id;
      version.effective_from = Micros(row[1]);
      version.models = std::move(parsed->models);
      version.tools = std::move(parsed->tools);
      if (absl::Status s = book.Add(std::move(version)); !s.ok()) {
        return absl::InternalError(absl::StrCat("stored price versions: ", s.message()));
      }
    }
    txn.commit();
  } catch (...) {
    return CurrentExceptionToStatus("load price versions");
  }
  return book;
}

absl::StatusOr<std::vector<PriceVersionInfo>> PgPriceStore::ListVersions() {
  try {
    PgConnection conn(database_url_);
    pqxx::read_transaction txn(conn);
    pqxx::result rows = txn.exec(
        absl::StrCat("SELECT ", kVersionColumns, " FROM price_versions ORDER BY effective_from"));
    std::vector<PriceVersionInfo> out;
    for (const auto& row : rows) out.push_back(ReadInfo(row));
    txn.commit();
    return out;
  } catch (...) {
    return CurrentExceptionToStatus("list price versions");
  }
}

absl::StatusOr<std::string> PgPriceStore::VersionsStamp() {
  try {
    PgConnection conn(database_url_);
    pqxx::read_transaction txn(conn);
    std::string stamp = txn.exec1(kVersionsStamp)[0].as<std::string>();
    txn.commit();
    return stamp;
  } catch (...) {
    return CurrentExceptionToStatus("read price versions");
  }
}

absl::StatusOr<std::vector<UnpricedGroup>> PgPriceStore::ListUnpriced(absl::Time since,
                                                                      absl::Time until) {
  try {
    PgConnection conn(database_url_);
    pqxx::read_transaction txn(conn);
    pqxx::result rows = txn.exec_params(kListUnpriced, PgTimestamp(since), PgTimestamp(until));
    std::vector<UnpricedGroup> out;
    for (const auto& row : rows) {
      UnpricedGroup g;
      g.model = row[0].as<std::string>();
      g.tool_name = row[1].as<std::string>();
      g.reason = row[2].as<std::string>();
      g.steps = row[3].as<int64_t>();
      g.first_seen = Micros(row[4]);
      g.last_seen = Micros(row[5]);
      out.push_back(std::move(g));
    }
    txn.commit();
    return out;
  } catch (...) {
    return CurrentExceptionToStatus("list unpriced steps");
  }
}

absl::StatusOr<RepriceReport> PgPriceStore::Reprice(absl::Time since, absl::Time until,
                                                    bool dry_run,
                                                    const domain::auth::AuditActor& actor) {
  absl::StatusOr<pricing::PriceBook> book = LoadBook();
  if (!book.ok()) return book.status();
  RepriceReport report;
  report.dry_run = dry_run;
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kRepriceLockKey);
    pqxx::result rows = txn.exec_params(kRepriceCandidates, PgTimestamp(since), PgTimestamp(until));
    for (const auto& row : rows) {
      ++report.examined;
      pricing::PricingInput input;
      input.occurred_at = Micros(row[1]);
      input.kind = ParseKind(row[8].as<std::string>());
      input.provider = row[9].as<std::string>();
      input.model = row[10].as<std::string>();
      input.usage.input_uncached_tokens = OptionalInt(row[11]);
      input.usage.cache_read_tokens = OptionalInt(row[12]);
      input.usage.cache_write_tokens = OptionalInt(row[13]);
      input.usage.output_tokens = OptionalInt(row[14]);
      input.usage.reasoning_tokens = OptionalInt(row[15]);
      input.tool_name = row[16].as<std::string>();
      const std::optional<int64_t> stored_cost = OptionalInt(row[17]);
      const int64_t corrections = row[19].is_null() ? 0 : row[19].as<int64_t>();
      std::optional<domain::NanoUsd> effective = stored_cost;
      if (corrections > 0) effective = stored_cost.value_or(0) + row[20].as<int64_t>();

      pricing::RepriceDecision decision =
          pricing::DecideReprice(*book, input, effective, row[18].as<std::string>());
      if (!decision.new_cost_nano_usd.has_value()) {
        if (decision.still_unpriced != pricing::UnpricedReason::kNone) ++report.still_unpriced;
        continue;
      }
      Correction c;
      c.event_id = row[0].as<std::string>();
      c.occurred_at = input.occurred_at;
      c.parent_run_id = row[2].as<std::string>();
      c.model = input.model.empty() ? input.tool_name : input.model;
      c.old_cost_nano_usd = effective;
      c.new_cost_nano_usd = *decision.new_cost_nano_usd;
      c.delta_nano_usd = c.new_cost_nano_usd - effective.value_or(0);
      c.price_version = decision.price_version_id;
      c.reason = decision.reason;
      if (!dry_run) {
        const std::string old = effective ? absl::StrCat(*effective) : "";
        const pqxx::result inserted = txn.exec_params(
            kInsertCorrection, c.event_id, PgTimestamp(c.occurred_at), c.parent_run_id,
            row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>(),
            row[6].as<std::string>(), row[7].as<std::string>(), effective ? old.c_str() : nullptr,
            c.new_cost_nano_usd, c.delta_nano_usd, c.price_version, c.reason);
        // Already corrected with this version (a stale effective cost cannot happen under
        // the lock, but the unique key is the guarantee): nothing new to report.
        if (inserted.affected_rows() == 0) continue;
      }
      report.total_delta_nano_usd += c.delta_nano_usd;
      report.corrections.push_back(std::move(c));
    }
    if (!dry_run) {
      RecordAdminAudit(txn, "reprice", actor,
                       {{"since", Rfc3339Utc(since)},
                        {"until", until == absl::InfiniteFuture() ? "" : Rfc3339Utc(until)},
                        {"examined", report.examined},
                        {"corrections", report.corrections.size()},
                        {"total_delta_nano_usd", report.total_delta_nano_usd}});
    }
    txn.commit();
  } catch (...) {
    return CurrentExceptionToStatus("reprice");
  }
  return report;
}

}  // namespace stepledger::storage
