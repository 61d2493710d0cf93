// GroupCommitter with several writers: each run belongs to one writer, a batch split across
// writers completes once, with its outcomes in the batch's order.
#include "server/domain/ingest/group_committer.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_ledger_store.h"

namespace stepledger::domain::ingest {
namespace {

using testing::FakeLedgerStore;

IngestItem Item(const std::string& id, const std::string& run, const std::string& digest) {
  IngestItem item;
  item.step.event_id = id;
  item.step.tags.parent_run_id = run;
  item.digest = digest;
  return item;
}

struct TwoWriters {
  TwoWriters() {
    std::vector<std::unique_ptr<LedgerStore>> stores;
    for (FakeLedgerStore*& fake : fakes) {
      auto store = std::make_unique<FakeLedgerStore>();
      fake = store.get();
      stores.push_back(std::move(store));
    }
    committer =
        std::make_unique<GroupCommitter>(std::move(stores), GroupCommitter::Options{}, nullptr);
  }

  absl::StatusOr<std::vector<Outcome>> SubmitAndWait(std::vector<IngestItem> items) {
    absl::Notification done;
    absl::StatusOr<std::vector<Outcome>> result;
    absl::Status s =
        committer->Submit(std::move(items), [&](absl::StatusOr<std::vector<Outcome>> r) {
          result = std::move(r);
          done.Notify();
        });
    if (!s.ok()) return s;
    done.WaitForNotification();
    return result;
  }

  FakeLedgerStore* fakes[2] = {nullptr, nullptr};
  std::unique_ptr<GroupCommitter> committer;
};

std::vector<IngestItem> ManyRuns(int runs, const std::string& prefix) {
  std::vector<IngestItem> items;
  for (int r = 0; r < runs; ++r) {
    for (int s = 0; s < 3; ++s) {
      items.push_back(Item(absl::StrCat(prefix, r, "-", s), absl::StrCat("run-", r), "d"));
    }
  }
  return items;
}

TEST(GroupCommitterTest, EachRunIsCommittedByOneWriterOnly) {
  TwoWriters w;
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(w.SubmitAndWait(ManyRuns(40, absl::StrCat("r", round, "-"))).ok());
  }
  const std::set<std::string> a = w.fakes[0]->runs();
  const std::set<std::string> b = w.fakes[1]->runs();
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(b.empty()) << "40 runs all hashed to one writer: the split is not working";
  for (const std::string& run : a) EXPECT_EQ(b.count(run), 0u) << run << " on both writers";
  EXPECT_EQ(a.size() + b.size(), 40u);
  EXPECT_EQ(w.fakes[0]->stored() + w.fakes[1]->stored(), 5u * 40u * 3u);
}

TEST(GroupCommitterTest, ASplitBatchAnswersInItsOwnOrder) {
  TwoWriters w;
  ASSERT_TRUE(w.SubmitAndWait(ManyRuns(20, "first-")).ok());
  // Re-send every other event (duplicates), one with other content (a conflict), mixed with
  // new ones, across all 20 runs.
  std::vector<IngestItem> items;
  std::vector<Outcome> expected;
  for (int r = 0; r < 20; ++r) {
    const std::string run = absl::StrCat("run-", r);
    items.push_back(Item(absl::StrCat("first-", r, "-0"), run, "d"));
    expected.push_back(Outcome::kDuplicate);
    items.push_back(Item(absl::StrCat("new-", r), run, "d"));
    expected.push_back(Outcome::kAccepted);
    items.push_back(Item(absl::StrCat("first-", r, "-1"), run, r == 7 ? "other" : "d"));
    expected.push_back(r == 7 ? Outcome::kConflict : Outcome::kDuplicate);
  }
  auto result = w.SubmitAndWait(std::move(items));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, expected);
}

TEST(GroupCommitterTest, APartThatFailsFailsTheWholeBatch) {
  TwoWriters w;
  w.fakes[1]->FailNext(absl::UnavailableError("database unreachable"));
  auto result = w.SubmitAndWait(ManyRuns(40, "x-"));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  // The client re-sends the batch: what the healthy writer stored counts as duplicates.
  auto again = w.SubmitAndWait(ManyRuns(40, "x-"));
  ASSERT_TRUE(again.ok()) << again.status();
  size_t duplicates = 0;
  for (Outcome o : *again) duplicates += o == Outcome::kDuplicate ? 1 : 0;
  EXPECT_GT(duplicates, 0u);
  EXPECT_LT(duplicates, again->size());
  EXPECT_EQ(w.fakes[0]->stored() + w.fakes[1]->stored(), 40u * 3u);
}

TEST(GroupCommitterTest, APoisonBatchFailsAloneAndTheRestOfItsGroupIsCommitted) {
  auto owned = std::make_unique<FakeLedgerStore>();
  FakeLedgerStore* store = owned.get();
  std::vector<std::unique_ptr<LedgerStore>> stores;
  stores.push_back(std::move(owned));
  // Declared before the committer: its writers are joined before these go away.
  absl::Mutex mu;
  std::map<std::string, absl::Status> results;
  int remaining = 4;
  GroupCommitter committer(std::move(stores), GroupCommitter::Options{}, nullptr);
  store->Poison("bad");
  store->Hold();

  // The first batch occupies the writer, so the next three queue up and form one group.
  auto submit = [&](const std::string& name, std::vector<IngestItem> items) {
    ASSERT_TRUE(committer
                    .Submit(std::move(items),
                            [&, name](absl::StatusOr<std::vector<Outcome>> r) {
                              absl::MutexLock lock(&mu);
                              results[name] = r.status();
                              --remaining;
                            })
                    .ok());
  };
  submit("blocker", {Item("b-1", "run-b", "d")});
  store->WaitUntilHeld();
  submit("before", {Item("a-1", "run-a", "d"), Item("a-2", "run-a", "d")});
  submit("poison", {Item("p-1", "run-p", "d"), Item("bad", "run-p", "d")});
  submit("after", {Item("c-1", "run-c", "d")});
  store->Release();
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* r) { return *r == 0; }, &remaining));
  }
  EXPECT_TRUE(results["blocker"].ok());
  EXPECT_TRUE(results["before"].ok()) << results["before"];
  EXPECT_TRUE(results["after"].ok()) << results["after"];
  EXPECT_TRUE(absl::IsInvalidArgument(results["poison"])) << results["poison"];
  // Nothing of the poison batch is stored (it failed as a whole), everything else is.
  EXPECT_EQ(store->stored(), 4u);
}

TEST(GroupCommitterTest, AnUnavailableGroupIsNotRetriedBatchByBatch) {
  auto owned = std::make_unique<FakeLedgerStore>();
  FakeLedgerStore* store = owned.get();
  std::vector<std::unique_ptr<LedgerStore>> stores;
  stores.push_back(std::move(owned));
  absl::Mutex mu;  // before the committer: its writers are joined before this goes away
  int failed = 0, remaining = 3;
  GroupCommitter committer(std::move(stores), GroupCommitter::Options{}, nullptr);
  store->Hold();
  auto submit = [&](int i) {
    ASSERT_TRUE(committer
                    .Submit({Item(absl::StrCat("u-", i), absl::StrCat("run-", i), "d")},
                            [&](absl::StatusOr<std::vector<Outcome>> r) {
                              absl::MutexLock lock(&mu);
                              if (absl::IsUnavailable(r.status())) ++failed;
                              --remaining;
                            })
                    .ok());
  };
  // The first batch's commit is held; the other two queue up as one group. Both commits
  // meet the database being away.
  submit(0);
  store->WaitUntilHeld();
  submit(1);
  submit(2);
  store->FailNext(absl::UnavailableError("gone"));
  store->FailNext(absl::UnavailableError("gone"));
  store->Release();
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](int* r) { return *r == 0; }, &remaining));
  EXPECT_EQ(failed, 3);
  // One commit for the first batch, one for the group of two: no per-batch retries.
  EXPECT_EQ(store->commits(), 2);
}

TEST(GroupCommitterTest, QuarantinePayloadsCountAgainstTheQueuesByteBound) {
  auto owned = std::make_unique<FakeLedgerStore>();
  FakeLedgerStore* store = owned.get();
  std::vector<std::unique_ptr<LedgerStore>> stores;
  stores.push_back(std::move(owned));
  GroupCommitter::Options options;
  options.max_queued_bytes = 1024 * 1024;
  absl::Notification done_first, done_second;  // outlive the committer's writers
  GroupCommitter committer(std::move(stores), options, nullptr);
  store->Hold();
  auto big = [](const std::string& id) {
    IngestItem item = Item(id, "run-" + id, "d");
    item.rejection = FieldError{"name", "too long"};
    item.raw_json = std::string(600 * 1024, 'x');
    return item;
  };
  std::vector<IngestItem> first;
  first.push_back(big("q-1"));
  ASSERT_TRUE(committer.Submit(std::move(first), [&](auto) { done_first.Notify(); }).ok());
  std::vector<IngestItem> second;
  second.push_back(big("q-2"));
  absl::Status refused = committer.Submit(std::move(second), [](auto) {});
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_NE(refused.message().find("bytes waiting"), std::string::npos) << refused;
  store->Release();
  done_first.WaitForNotification();
  // Once the first batch is done its bytes are free again.
  std::vector<IngestItem> third;
  third.push_back(big("q-3"));
  ASSERT_TRUE(committer.Submit(std::move(third), [&](auto) { done_second.Notify(); }).ok());
  done_second.WaitForNotification();
}

}  // namespace
}  // namespace stepledger::domain::ingest
