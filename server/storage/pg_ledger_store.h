// PgLedgerStore: commits groups of ingested events to PostgreSQL in one transaction.
//
//   1. create missing daily partitions (own short transaction; cached per connection)
//   2. COPY the group's valid events into a per-connection temp staging table
//   3. one statement claims each new event_id in event_keys (ON CONFLICT DO NOTHING) and
//      inserts exactly the claimed events into the partitioned steps ledger
//   4. ids that were not claimed are looked up: same digest = duplicate, other = conflict
//   5. rejected events and conflicts go to quarantine (unique on digest)
//   6. COMMIT; only then are outcomes returned
//
// Thread safety: NOT thread-safe; one instance per writer thread (it owns one connection).
// The connection is (re)opened lazily; while the database is unreachable Commit() returns
// Unavailable fast, trying to reconnect at most once per reconnect_interval.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_LEDGER_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_LEDGER_STORE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/domain/ingest/ledger_port.h"

namespace stepledger::storage {

class PgLedgerStore final : public domain::ingest::LedgerStore {
 public:
  struct Options {
    std::string database_url;
    absl::Duration reconnect_interval = absl::Milliseconds(500);
    domain::ingest::RunObserver* run_observer = nullptr;  // may be null; must outlive the store
    // Owner of this writer's rows in spend_counters ("<replica instance>/w<n>"): unique per
    // writer so that writers never contend on a counter row.
    std::string counter_owner = "default/w0";
  };

  explicit PgLedgerStore(Options options);
  ~PgLedgerStore() override;

  absl::StatusOr<std::vector<domain::ingest::Outcome>> Commit(
      absl::Span<const domain::ingest::IngestItem* const> items) override;

 private:
  absl::StatusOr<std::vector<domain::ingest::Outcome>> CommitOnce(
      absl::Span<const domain::ingest::IngestItem* const> items);
  absl::Status EnsureConnected();
  absl::Status EnsurePartitions(absl::Span<const domain::ingest::IngestItem* const> items);

  const Options options_;
  struct Connection;  // wraps pqxx::connection, so this header stays free of libpqxx
  std::unique_ptr<Connection> conn_;
  absl::Time last_connect_attempt_ = absl::InfinitePast();
  absl::flat_hash_set<int64_t> known_partition_days_;  // days since the Unix epoch
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_LEDGER_STORE_H_
