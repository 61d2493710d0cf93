#include "server/storage/pg_ledger_store.h"

#include <array>
#include <optional>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "server/domain/ingest/text.h"
#include "server/storage/copy_text.h"
#include "server/storage/ledger_queries.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/step_json.h"

namespace stepledger::storage {
namespace {

using domain::ingest::IngestItem;
using domain::ingest::Outcome;

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

absl::CivilDay DayOf(absl::Time t) { return absl::ToCivilDay(t, absl::UTCTimeZone()); }

int64_t EpochDay(absl::CivilDay day) { return day - absl::CivilDay(1970, 1, 1); }

// The columns staging and ledger rows begin with: the id, the times, the digest and the event's
// own six tags (queries::kStagingColumns after seq, queries::kLedgerColumns).
void AppendIdTimesAndTags(CopyRow& row, const IngestItem& item) {
  const domain::Step& s = item.step;
  row.Text(s.event_id)
      .Time(item.occurred_at())
      .Time(item.received_at)
      .Bytea(item.digest)
      .Text(s.tags.feature)
      .Text(s.tags.team)
      .Text(domain::ToString(s.tags.workload_class))
      .Text(s.tags.tenant)
      .Text(domain::ToString(s.tags.environment))
      .Text(s.tags.parent_run_id);
}

// What the claim needs of an event (queries::kStagingColumns): as validated, before the claim
// settles who pays.
void AppendStagingRow(CopyRow& row, int seq, const IngestItem& item) {
  const domain::Step& s = item.step;
  row.Int(seq);
  AppendIdTimesAndTags(row, item);
  row.Text(item.charged.feature)
      .Text(item.charged.team)
      .Text(domain::ToString(item.charged.workload_class))
      .Text(item.charged.tenant)
      .Text(domain::ToString(item.status))
      .Text(s.step_id)
      .Text(s.parent_step_id)
      .OptionalInt(item.cost_nano_usd)
      .Int(s.attempt);
}

// How the claim statement charged a claimed event: its ledger row is written with exactly
// these values, and they are written back into the item for observers (ApplyLedgerCharge).
// Views into the claim's pqxx::result, which CommitOnce keeps until the last use: copying five
// strings per claimed event out of it was a visible part of the collector's CPU.
struct LedgerCharge {
  std::string_view status, feature, team, workload_class, tenant;
  bool tag_drift = false;
};

// A field's text, valid while its result lives (libpqxx 6 has no field::view()). NULL is
// refused, as field::as<std::string>() refuses it.
std::string_view FieldView(const pqxx::field& field) {
  if (field.is_null()) throw pqxx::conversion_error(absl::StrCat("NULL in column ", field.num()));
  return {field.c_str(), field.size()};
}

// The ledger row of a claimed event (queries::kLedgerColumns).
void AppendLedgerRow(CopyRow& row, const IngestItem& item, const LedgerCharge& charge) {
  const domain::Step& s = item.step;
  AppendIdTimesAndTags(row, item);
  row.Text(charge.feature)
      .Text(charge.team)
      .Text(charge.workload_class)
      .Text(charge.tenant)
      .Text(charge.status)
      .Text(s.step_id)
      .Text(s.parent_step_id)
      .Text(domain::ToString(s.kind))
      .Text(s.name)
      .Text(s.provider)
      .Text(s.model)
      .OptionalInt(s.usage.input_uncached_tokens)
      .OptionalInt(s.usage.cache_read_tokens)
      .OptionalInt(s.usage.cache_write_tokens)
      .OptionalInt(s.usage.output_tokens)
      .OptionalInt(s.usage.reasoning_tokens)
      .OptionalInt(s.cost_nano_usd)
      .OptionalInt(item.cost_nano_usd)
      .Text(domain::ingest::ToString(item.cost_source));
  if (item.price_version.empty()) {
    row.Null();
  } else {
    row.Text(item.price_version);
  }
  row.Text(s.tool_name)
      .Text(s.tool_owner_team)
      .Text(s.status)
      .Text(s.operation_id)
      .Int(s.attempt)
      .OptionalTime(s.started_at)
      .OptionalTime(s.ended_at)
      .Text(AttributesToJson(s.attributes))
      .Text(charge.tag_drift ? "t" : "f")
      .Text(item.unpriced_reason)
      .Text(s.service_tier)
      .OptionalInt(s.tool_units);
}

// One COPY ... FROM STDIN of text rows, sent in chunks of many lines: write_raw_line copies its
// argument and makes one libpq call per call, which per row was a visible part of the
// collector's CPU. A chunk is lines joined by '\n'; write_raw_line ends it with the last newline.
// libpq 6.4 exposes raw COPY lines only through the (deprecated) tablewriter; the rows are
// escaped by CopyRow, so the raw path is exactly what is wanted here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
class ChunkedCopy {
 public:
  template <size_t N>
  ChunkedCopy(pqxx::work& txn, const std::string& table,
              const std::array<std::string_view, N>& columns)
      : columns_(columns.begin(), columns.end()),
        copy_(txn, table, columns_.begin(), columns_.end()) {
    chunk_.reserve(kChunkBytes + 4096);
  }

  void Add(const CopyRow& row) {
    if (!chunk_.empty()) chunk_ += '\n';
    chunk_ += row.line();
    if (chunk_.size() >= kChunkBytes) Flush();
  }

  void Complete() {
    if (!chunk_.empty()) Flush();
    copy_.complete();
  }

 private:
  static constexpr size_t kChunkBytes = 256 * 1024;
  void Flush() {
    copy_.write_raw_line(chunk_);
    chunk_.clear();
  }

  const std::vector<std::string> columns_;
  pqxx::tablewriter copy_;
  std::string chunk_;
};
#pragma GCC diagnostic pop

// The quarantine rows of one group, as the parallel arrays kInsertQuarantineRows takes. Every
// text value is escaped where it is not storable (domain/ingest/text.h): a row keeps what it
// quarantines and never fails on it.
class QuarantineRows {
 public:
  void Add(const IngestItem& item, std::string_view field, std::string_view reason,
           std::string event_json) {
    using domain::ingest::EscapeUnstorable;
    const domain::Step& s = item.step;
    event_id_.push_back(EscapeUnstorable(s.event_id));
    digest_.push_back(Hex(item.digest));
    received_at_.push_back(PgTimestamp(item.received_at));
    occurred_at_.push_back(PgTimestamp(item.occurred_at()));
    field_.push_back(EscapeUnstorable(field));
    reason_.push_back(EscapeUnstorable(reason));
    environment_.push_back(std::string(domain::ToString(s.tags.environment)));
    parent_run_id_.push_back(EscapeUnstorable(s.tags.parent_run_id));
    cost_.push_back(s.cost_nano_usd ? absl::StrCat(*s.cost_nano_usd) : "");
    event_.push_back(std::move(event_json));
  }
  bool empty() const { return event_id_.empty(); }

  // Inserts every row; returns the hex digests that were new.
  absl::flat_hash_set<std::string> Insert(pqxx::work& txn) const {
    pqxx::result r =
        txn.exec_params(queries::kInsertQuarantineRows, PgTextArray(event_id_),
                        PgTextArray(digest_), PgTextArray(received_at_), PgTextArray(occurred_at_),
                        PgTextArray(field_), PgTextArray(reason_), PgTextArray(environment_),
                        PgTextArray(parent_run_id_), PgTextArray(cost_), PgTextArray(event_));
    absl::flat_hash_set<std::string> inserted;
    for (const auto& row : r) inserted.insert(row[0].as<std::string>());
    return inserted;
  }

 private:
  std::vector<std::string> event_id_, digest_, received_at_, occurred_at_, field_, reason_,
      environment_, parent_run_id_, cost_, event_;
};

// Writes back what the ledger recorded for an accepted item, so observers (metrics, budget
// counters) charge whom the ledger charged, not whom the event named.
void ApplyLedgerCharge(const LedgerCharge& charge, const IngestItem& item) {
  using domain::AttributionStatus;
  for (AttributionStatus a :
       {AttributionStatus::kComplete, AttributionStatus::kInherited, AttributionStatus::kPending,
        AttributionStatus::kDefaulted, AttributionStatus::kQuarantined}) {
    if (charge.status == domain::ToString(a)) item.status = a;
  }
  // Usually the event's own tags: only a tag the claim changed (inherited from the run's root)
  // is copied.
  const auto set = [](std::string& to, std::string_view from) {
    if (to != from) to.assign(from);
  };
  set(item.charged.feature, charge.feature);
  set(item.charged.team, charge.team);
  set(item.charged.tenant, charge.tenant);
  item.charged.workload_class =
      domain::WorkloadClassFromString(charge.workload_class).value_or(item.charged.workload_class);
}

}  // namespace

struct PgLedgerStore::Connection {
  explicit Connection(const std::string& url) : pg(url, "ledger writer") {}
  PgConnection pg;
};

PgLedgerStore::PgLedgerStore(Options options) : options_(std::move(options)) {}

PgLedgerStore::~PgLedgerStore() = default;

absl::Status PgLedgerStore::EnsureConnected() {
  if (conn_ != nullptr && conn_->pg.is_open()) return absl::OkStatus();
  conn_.reset();
  const absl::Time now = absl::Now();
  if (now - last_connect_attempt_ < options_.reconnect_interval) {
    return absl::UnavailableError("database unreachable (reconnecting)");
  }
  last_connect_attempt_ = now;
  try {
    conn_ = std::make_unique<Connection>(options_.database_url);
    known_partition_days_.clear();
  } catch (...) {
    return CurrentExceptionToStatus("connect");
  }
  return absl::OkStatus();
}

absl::Status PgLedgerStore::EnsurePartitions(absl::Span<const IngestItem* const> items) {
  std::vector<absl::CivilDay> missing;
  for (const IngestItem* item : items) {
    if (item->rejection.has_value()) continue;
    const absl::CivilDay day = DayOf(item->occurred_at());
    if (known_partition_days_.insert(EpochDay(day)).second) missing.push_back(day);
  }
  absl::Status status = EnsureDailyPartitions(conn_->pg, missing);
  if (!status.ok()) {
    for (absl::CivilDay day : missing) known_partition_days_.erase(EpochDay(day));
  }
  return status;
}

absl::StatusOr<std::vector<Outcome>> PgLedgerStore::Commit(
    absl::Span<const IngestItem* const> items) {
  const bool had_connection = conn_ != nullptr;
  absl::StatusOr<std::vector<Outcome>> result = CommitOnce(items);
  // A connection that broke while idle (the database restarted) is only noticed on use. Try
  // once more on a fresh connection, unless the commit itself may have happened.
  if (had_connection && absl::IsUnavailable(result.status()) &&
      !absl::StrContains(result.status().message(), "commit outcome unknown")) {
    last_connect_attempt_ = absl::InfinitePast();
    result = CommitOnce(items);
  }
  return result;
}

absl::StatusOr<std::vector<Outcome>> PgLedgerStore::CommitOnce(
    absl::Span<const IngestItem* const> items) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  if (absl::Status s = EnsurePartitions(items); !s.ok()) {
    if (absl::IsUnavailable(s)) conn_.reset();
    return s;
  }
  std::vector<Outcome> outcomes(items.size(), Outcome::kAccepted);
  try {
    pqxx::work txn(conn_->pg);
    txn.exec(queries::kEnsureStaging);

    // 1-2: stage what the claim needs of the valid events.
    bool any_valid = false;
    {
      ChunkedCopy copy(txn, "staging_claims", queries::kStagingColumns);
      CopyRow row;
      // Only the first occurrence of an id in the group is staged (the claim statement relies
      // on it); a repeat is then not claimed and is told duplicate or conflict in step 6 by
      // its digest, against the row the first occurrence stored.
      absl::flat_hash_set<std::string_view> staged_ids;
      staged_ids.reserve(items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i]->rejection.has_value()) continue;
        if (!staged_ids.insert(items[i]->step.event_id).second) continue;
        any_valid = true;
        row.Clear();
        AppendStagingRow(row, static_cast<int>(i), *items[i]);
        copy.Add(row);
      }
      copy.Complete();
    }

    // 3: claim ids, add the claimed events to runs, counters and reservations.
    // Claimed id -> how the ledger charges it (written back to the accepted item below).
    // The charges are views into claim_result, which lives until the end of the transaction.
    pqxx::result claim_result;
    absl::flat_hash_map<std::string_view, LedgerCharge> claimed;
    std::vector<std::string> runs_with_new_root;
    // Runs in which this group stored pending steps. Their root may have been committed by a
    // concurrent group after kChargeToStoredRoots looked: that group's own re-charge ran before
    // this group committed and could not see these steps. The runs upsert in kClaimEvents
    // waited for any such group (same runs row), so the statements after it see its root.
    absl::flat_hash_set<std::string> runs_with_pending;
    domain::ingest::RunUpdateStats run_stats;
    if (any_valid) {
      txn.exec(queries::kChargeToStoredRoots);
      txn.exec(queries::kChargeToStagedRoots);
      claim_result = txn.exec_params(queries::kClaimEvents, options_.counter_owner);
      claimed.reserve(claim_result.size());
      for (const auto& row : claim_result) {
        const LedgerCharge& charge =
            claimed
                .emplace(FieldView(row[0]),
                         LedgerCharge{FieldView(row[3]), FieldView(row[6]), FieldView(row[7]),
                                      FieldView(row[8]), FieldView(row[9]), row[4].as<bool>()})
                .first->second;
        // Only a root whose run already had stored steps can have anything to re-charge.
        if (row[1].as<bool>() && row[5].as<bool>()) {
          runs_with_new_root.push_back(row[2].as<std::string>());
        }
        if (charge.status == "inherited") ++run_stats.inherited_at_insert;
        if (charge.status == "pending") {
          ++run_stats.stored_pending;
          runs_with_pending.insert(row[2].as<std::string>());
        }
        if (charge.tag_drift) ++run_stats.tag_drift;
      }
    }

    // 4: the claimed events into the ledger, charged as the claim settled. Everything not
    // claimed was stored before (or earlier in this group). The first occurrence of a claimed
    // id in the group is the one that is stored (only it was staged).
    std::vector<std::string_view> lookup;
    {
      std::optional<ChunkedCopy> copy;
      if (!claimed.empty()) copy.emplace(txn, "steps", queries::kLedgerColumns);
      CopyRow row;
      for (size_t i = 0; i < items.size(); ++i) {
        const IngestItem& item = *items[i];
        if (item.rejection.has_value()) {
          outcomes[i] = Outcome::kQuarantined;
          continue;
        }
        if (auto it = claimed.find(item.step.event_id); it != claimed.end()) {
          outcomes[i] = Outcome::kAccepted;
          ApplyLedgerCharge(it->second, item);
          row.Clear();
          AppendLedgerRow(row, item, it->second);
          copy->Add(row);
          claimed.erase(it);
        } else {
          outcomes[i] = Outcome::kDuplicate;  // or a conflict: refined in step 6
          lookup.push_back(item.step.event_id);
        }
      }
      if (copy.has_value()) copy->Complete();
    }

    // 5: re-charge stored steps to a root that arrived after them (this group's rows are in
    // `steps` now: a pending step of this group may be among them).
    for (std::string& run : runs_with_new_root) runs_with_pending.erase(run);
    runs_with_new_root.insert(runs_with_new_root.end(), runs_with_pending.begin(),
                              runs_with_pending.end());
    if (!runs_with_new_root.empty()) {
      // Steps stored before their root are charged to it now, in the same transaction.
      std::vector<std::string_view> ids(runs_with_new_root.begin(), runs_with_new_root.end());
      const std::string array = PgTextArray(ids);
      pqxx::result fixed =
          txn.exec_params(queries::kChargeStoredStepsToNewRoots, array, options_.counter_owner);
      absl::flat_hash_set<std::string> changed_runs;
      for (const auto& row : fixed) {
        if (row[0].as<std::string>() == "inherited") ++run_stats.resolved_by_late_root;
        if (row[1].as<bool>()) ++run_stats.tag_drift;
        changed_runs.insert(row[2].as<std::string>());
      }
      if (!changed_runs.empty()) {
        // Only runs whose steps were re-charged can have new pending/drift counts.
        std::vector<std::string_view> changed(changed_runs.begin(), changed_runs.end());
        txn.exec_params(queries::kRecountRuns, PgTextArray(changed));
      }
    }

    // 6: tell duplicates from conflicts by the stored digest.
    if (!lookup.empty()) {
      absl::flat_hash_map<std::string, std::string> stored;
      pqxx::result r = txn.exec_params(queries::kStoredDigests, PgTextArray(lookup));
      for (const auto& row : r) stored[row[0].as<std::string>()] = row[1].as<std::string>();
      for (size_t i = 0; i < items.size(); ++i) {
        if (outcomes[i] != Outcome::kDuplicate) continue;
        const IngestItem& item = *items[i];
        auto it = stored.find(item.step.event_id);
        if (it == stored.end()) {
          return absl::InternalError(
              absl::StrCat("event ", item.step.event_id, " neither claimed nor stored"));
        }
        if (it->second != Hex(item.digest)) outcomes[i] = Outcome::kConflict;
      }
    }

    // 7: quarantine what was rejected, and conflicts (the stored row stays as it was).
    QuarantineRows quarantine;
    for (size_t i = 0; i < items.size(); ++i) {
      const IngestItem& item = *items[i];
      if (outcomes[i] == Outcome::kQuarantined) {
        quarantine.Add(item, item.rejection->field, item.rejection->reason,
                       item.raw_json.empty() ? StepToJson(item.step) : item.raw_json);
      } else if (outcomes[i] == Outcome::kConflict) {
        quarantine.Add(item, "event_id", "conflict: event_id already stored with different content",
                       StepToJson(item.step));
      }
    }
    if (!quarantine.empty()) {
      absl::flat_hash_set<std::string> inserted = quarantine.Insert(txn);
      // Only the first occurrence of a new digest in the group counts as new; the same content
      // again (in this group or an earlier one) was quarantined before.
      for (size_t i = 0; i < items.size(); ++i) {
        if (outcomes[i] != Outcome::kQuarantined) continue;
        if (inserted.erase(Hex(items[i]->digest)) == 0) outcomes[i] = Outcome::kQuarantinedAgain;
      }
    }

    txn.commit();
    if (options_.run_observer != nullptr) options_.run_observer->OnRunsUpdated(run_stats);
  } catch (...) {
    absl::Status status = CurrentExceptionToStatus("commit group");
    if (absl::IsUnavailable(status) || conn_ == nullptr || !conn_->pg.is_open()) conn_.reset();
    return status;
  }
  return outcomes;
}

}  // namespace stepledger::storage
