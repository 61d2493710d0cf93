// ledger_store_load: the write path without gRPC and without a load client. It measures how fast
// PostgreSQL and the store (PgLedgerStore behind the GroupCommitter, as the collector wires them)
// commit ingest_load's events, so that the end-to-end ratio of bench/ingest can be split into
// what the database's work per event allows and what the rest of the pipeline costs on the
// same cores (docs/PERFORMANCE.md, "The store alone").
//
//   ledger_store_load DATABASE_URL [EVENTS=300000] [WRITERS=2] [GROUP=10000]
//
// Before the clock starts, the events are made (bench_events.h), serialized in batches of 500,
// read back by the collector's own StepBatchReader and put through its IngestService
// (validation, digest, charge), which hands them to a GroupCommitter whose only store keeps a
// copy of every item. Timed: every item submitted at once to a GroupCommitter over WRITERS
// PgLedgerStores (groups of up to GROUP events), until every batch is committed. Nothing
// observes the commits: the collector's metrics and budget counters are not in the figure.
//
// Prints "store_events=N seconds=S events_per_second=R bench_cpu_us_per_event=C" (C: this
// process's CPU while timed, i.e. the store's own work) and exits non-zero unless every event was
// accepted. The database must be migrated; its ledger should be empty (ids are unique per run).
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "bench/ingest/bench_events.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/storage/pg_ledger_store.h"
#include "server/transport/step_batch_reader.h"

namespace {

using stepledger::domain::ingest::BatchResult;
using stepledger::domain::ingest::GroupCommitter;
using stepledger::domain::ingest::IngestItem;
using stepledger::domain::ingest::LedgerStore;
using stepledger::domain::ingest::Outcome;

constexpr int kBatchSize = 500;  // ingest_load's default batch

// Keeps a copy of every item it is given and accepts them all: what the IngestService would
// have handed the database.
class CopyingStore final : public LedgerStore {
 public:
  explicit CopyingStore(std::vector<IngestItem>& items) : items_(items) {}
  absl::StatusOr<std::vector<Outcome>> Commit(absl::Span<const IngestItem* const> items) override {
    for (const IngestItem* item : items) items_.push_back(*item);
    return std::vector<Outcome>(items.size(), Outcome::kAccepted);
  }

 private:
  std::vector<IngestItem>& items_;  // one writer: never called concurrently
};

// The items the collector would build for `events`, through its own reader and service.
std::vector<IngestItem> PrepareItems(const std::vector<stepledger::v1::StepEvent>& events) {
  std::vector<IngestItem> items;
  items.reserve(events.size());
  std::vector<std::unique_ptr<LedgerStore>> stores;
  stores.push_back(std::make_unique<CopyingStore>(items));
  // Bounded by nothing, as the timed committer below: the copy must never refuse a batch.
  GroupCommitter copier(std::move(stores),
                        {.max_queued_events = events.size() + 1, .max_queued_bytes = SIZE_MAX},
                        nullptr);
  stepledger::domain::SystemClock clock;
  stepledger::domain::ingest::IngestService service(copier, clock, {}, nullptr);
  stepledger::transport::StepBatchReader reader(64 * 1024);
  const int batches = static_cast<int>((events.size() + kBatchSize - 1) / kBatchSize);
  absl::BlockingCounter pending(batches);
  std::atomic<bool> all_accepted{true};
  for (int b = 0; b < batches; ++b) {
    stepledger::v1::StepBatch batch;
    batch.set_sequence(static_cast<uint64_t>(b) + 1);
    for (size_t i = static_cast<size_t>(b) * kBatchSize;
         i < events.size() && i < static_cast<size_t>(b + 1) * kBatchSize; ++i) {
      *batch.add_events() = events[i];
    }
    const std::string bytes = batch.SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    absl::StatusOr<stepledger::transport::StepBatchReader::Batch> read = reader.Read(buffer);
    if (!read.ok()) {
      std::fprintf(stderr, "ledger_store_load: %s\n", read.status().ToString().c_str());
      std::exit(1);
    }
    absl::Status submitted =
        service.SubmitBatch(std::move(read->events), [&](absl::StatusOr<BatchResult> result) {
          if (!result.ok() || !result->rejected.empty()) all_accepted = false;
          pending.DecrementCount();
        });
    if (!submitted.ok()) {
      std::fprintf(stderr, "ledger_store_load: %s\n", submitted.ToString().c_str());
      std::exit(1);
    }
  }
  pending.Wait();
  if (!all_accepted) {
    std::fprintf(stderr, "ledger_store_load: the service rejected bench events\n");
    std::exit(1);
  }
  return items;
}

double CpuSeconds() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 + self.ru_stime.tv_sec +
         self.ru_stime.tv_usec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ledger_store_load DATABASE_URL [EVENTS] [WRITERS] [GROUP]\n");
    return 64;
  }
  const std::string url = argv[1];
  const int events_n = argc > 2 ? std::atoi(argv[2]) : 300000;
  const int writers = argc > 3 ? std::atoi(argv[3]) : 2;
  const size_t group = argc > 4 ? static_cast<size_t>(std::atoi(argv[4])) : 10000;
  if (events_n < 1 || writers < 1 || group < 1) {
    std::fprintf(stderr, "ledger_store_load: EVENTS, WRITERS and GROUP must be >= 1\n");
    return 64;
  }

  std::vector<IngestItem> items =
      PrepareItems(stepledger::bench::MakeBenchEvents(events_n, absl::ToUnixSeconds(absl::Now())));

  std::vector<std::unique_ptr<LedgerStore>> stores;
  for (int w = 0; w < writers; ++w) {
    stores.push_back(std::make_unique<stepledger::storage::PgLedgerStore>(
        stepledger::storage::PgLedgerStore::Options{
            .database_url = url, .counter_owner = absl::StrCat("store-bench/w", w)}));
  }
  GroupCommitter committer(std::move(stores),
                           {.max_queued_events = items.size() + 1,
                            .max_queued_bytes = SIZE_MAX,
                            .max_group_events = group},
                           nullptr);
  std::vector<std::vector<IngestItem>> batches;
  for (size_t i = 0; i < items.size(); i += kBatchSize) {
    std::vector<IngestItem>& batch = batches.emplace_back();
    for (size_t j = i; j < items.size() && j < i + kBatchSize; ++j) {
      batch.push_back(std::move(items[j]));
    }
  }

  absl::BlockingCounter pending(static_cast<int>(batches.size()));
  std::atomic<int64_t> accepted{0};
  std::atomic<bool> failed{false};
  const double cpu_before = CpuSeconds();
  const absl::Time start = absl::Now();
  for (std::vector<IngestItem>& batch : batches) {
    absl::Status submitted =
        committer.Submit(std::move(batch), [&](absl::StatusOr<std::vector<Outcome>> outcomes) {
          if (!outcomes.ok()) {
            std::fprintf(stderr, "ledger_store_load: %s\n", outcomes.status().ToString().c_str());
            failed = true;
          } else {
            for (Outcome o : *outcomes) accepted += o == Outcome::kAccepted ? 1 : 0;
          }
          pending.DecrementCount();
        });
    if (!submitted.ok()) {
      std::fprintf(stderr, "ledger_store_load: %s\n", submitted.ToString().c_str());
      return 1;
    }
  }
  pending.Wait();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = CpuSeconds() - cpu_before;
  committer.Stop();

  std::printf(
      "store_events=%lld seconds=%.2f events_per_second=%.0f bench_cpu_us_per_event=%.1f "
      "writers=%d group=%zu\n",
      static_cast<long long>(accepted.load()), seconds, accepted.load() / seconds,
      cpu / events_n * 1e6, writers, group);
  if (failed || accepted.load() != events_n) {
    std::fprintf(stderr, "ledger_store_load: %lld of %d events accepted\n",
                 static_cast<long long>(accepted.load()), events_n);
    return 1;
  }
  return 0;
}
