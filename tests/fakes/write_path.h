// A collector's write path without the gRPC layer, for integration tests: real validation,
// real group commit, real PostgreSQL. Destroying it and making a new one is a restart: nothing
// is kept in memory.
#ifndef STEPLEDGER_TESTS_FAKES_WRITE_PATH_H_
#define STEPLEDGER_TESTS_FAKES_WRITE_PATH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/storage/pg_ledger_store.h"

namespace stepledger::testing {

class WritePath {
 public:
  struct Options {
    const domain::ingest::StepPricer* pricer = nullptr;
    domain::ingest::CommitObserver* observer = nullptr;
    std::string counter_owner = "test/w0";
  };

  explicit WritePath(const std::string& url) : WritePath(url, Options{}) {}
  WritePath(const std::string& url, Options options) {
    std::vector<std::unique_ptr<domain::ingest::LedgerStore>> stores;
    stores.push_back(std::make_unique<storage::PgLedgerStore>(storage::PgLedgerStore::Options{
        .database_url = url, .counter_owner = options.counter_owner}));
    committer_ = std::make_unique<domain::ingest::GroupCommitter>(
        std::move(stores), domain::ingest::GroupCommitter::Options{}, options.observer);
    service_ = std::make_unique<domain::ingest::IngestService>(
        *committer_, clock_, domain::ingest::ValidationLimits{}, nullptr, options.pricer);
  }

  domain::ingest::BatchResult Send(const std::vector<domain::Step>& steps) {
    std::vector<domain::ingest::ReceivedEvent> events;
    for (const domain::Step& s : steps) {
      events.push_back(
          domain::ingest::ReceivedEvent{s.event_id + "#digest", std::nullopt, NoJson, s});
    }
    absl::Notification done;
    absl::StatusOr<domain::ingest::BatchResult> result;
    absl::Status submitted = service_->SubmitBatch(std::move(events), [&](auto r) {
      result = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(submitted.ok()) << submitted;
    if (!submitted.ok()) return {};
    done.WaitForNotification();
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : domain::ingest::BatchResult{};
  }

 private:
  static std::string NoJson() { return "{}"; }

  domain::SystemClock clock_;
  std::unique_ptr<domain::ingest::GroupCommitter> committer_;
  std::unique_ptr<domain::ingest::IngestService> service_;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_WRITE_PATH_H_
