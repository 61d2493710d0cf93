#include "server/domain/ingest/ingest_service.h"

#include <memory>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ledger_store.h"

namespace stepledger::domain::ingest {
namespace {

using testing::FakeClock;
using testing::FakeLedgerStore;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 28, 12, 0, 0), absl::UTCTimeZone());

Step MakeStep(const std::string& id) {
  Step s;
  s.event_id = id;
  s.tags = {"inbox-triage",           "mail-ai", WorkloadClass::kInteractive, "acme",
            Environment::kProduction, "run-1"};
  s.step_id = "step-" + id;
  s.cost_nano_usd = 1000;
  return s;
}

std::string NoJson() { return "{}"; }

ReceivedEvent Event(const std::string& id, const std::string& digest) {
  return ReceivedEvent{digest, std::nullopt, NoJson, MakeStep(id)};
}

struct Harness {
  explicit Harness(GroupCommitter::Options options = {}) {
    auto store = std::make_unique<FakeLedgerStore>();
    fake = store.get();
    std::vector<std::unique_ptr<LedgerStore>> stores;
    stores.push_back(std::move(store));
    committer = std::make_unique<GroupCommitter>(std::move(stores), options, nullptr);
    service = std::make_unique<IngestService>(*committer, clock, ValidationLimits{}, nullptr);
  }

  absl::StatusOr<BatchResult> SubmitAndWait(std::vector<ReceivedEvent> events) {
    absl::Notification done;
    absl::StatusOr<BatchResult> result;
    absl::Status s = service->SubmitBatch(std::move(events), [&](absl::StatusOr<BatchResult> r) {
      result = std::move(r);
      done.Notify();
    });
    if (!s.ok()) return s;
    done.WaitForNotification();
    return result;
  }

  FakeClock clock{kNow};
  FakeLedgerStore* fake = nullptr;
  std::unique_ptr<GroupCommitter> committer;
  std::unique_ptr<IngestService> service;
};

TEST(IngestServiceTest, CountsAcceptedDuplicatesAndRejectionsPerBatch) {
  Harness h;
  std::vector<ReceivedEvent> batch;
  batch.push_back(Event("a", "d1"));
  batch.push_back(Event("b", "d2"));
  batch.push_back(Event("a", "d1"));  // duplicate inside the batch
  ReceivedEvent bad = Event("c", "d3");
  bad.step.tags.team.clear();
  batch.push_back(std::move(bad));
  auto result = h.SubmitAndWait(std::move(batch));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->accepted, 2);
  EXPECT_EQ(result->duplicates, 1);
  ASSERT_EQ(result->rejected.size(), 1u);
  EXPECT_EQ(result->rejected[0].event_id, "c");
  EXPECT_EQ(result->rejected[0].field, "tags.team");
  EXPECT_EQ(h.fake->quarantined(), 1);
}

TEST(IngestServiceTest, SameIdOtherContentIsAConflictNotADuplicate) {
  Harness h;
  std::vector<ReceivedEvent> first;
  first.push_back(Event("a", "d1"));
  ASSERT_TRUE(h.SubmitAndWait(std::move(first)).ok());
  std::vector<ReceivedEvent> second;
  second.push_back(Event("a", "d-other"));
  auto result = h.SubmitAndWait(std::move(second));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->accepted, 0);
  EXPECT_EQ(result->duplicates, 0);
  ASSERT_EQ(result->rejected.size(), 1u);
  EXPECT_EQ(result->rejected[0].field, "event_id");
  EXPECT_EQ(result->rejected[0].reason.rfind("conflict", 0), 0u);
}

TEST(IngestServiceTest, AConversionErrorQuarantinesTheEventWithItsReason) {
  Harness h;
  ReceivedEvent bad = Event("bad-time", "d1");
  bad.conversion_error = FieldError{"started_at", "malformed: not a valid protobuf Timestamp"};
  std::vector<ReceivedEvent> events;
  events.push_back(Event("good", "d0"));
  events.push_back(std::move(bad));
  absl::StatusOr<BatchResult> r = h.SubmitAndWait(std::move(events));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->accepted, 1);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].event_id, "bad-time");
  EXPECT_EQ(r->rejected[0].field, "started_at");
  EXPECT_EQ(h.fake->quarantined(), 1);
}

TEST(IngestServiceTest, ARejectedTimeDoesNotPlaceTheQuarantineRow) {
  Harness h;
  ReceivedEvent far = Event("far", "d1");
  far.step.started_at = kNow + absl::Hours(24 * 365 * 5000);  // year ~7000: valid, implausible
  std::vector<ReceivedEvent> events;
  events.push_back(std::move(far));
  absl::StatusOr<BatchResult> r = h.SubmitAndWait(std::move(events));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].field, "started_at");
  ASSERT_EQ(h.fake->quarantined_times().size(), 1u);
  EXPECT_EQ(h.fake->quarantined_times()[0], kNow);
}

TEST(IngestServiceTest, AnIdThatIsNotTextIsEchoedEscaped) {
  Harness h;
  std::vector<ReceivedEvent> events;
  events.push_back(Event("e\xff\xfe", "d1"));
  absl::StatusOr<BatchResult> r = h.SubmitAndWait(std::move(events));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].event_id, "e\\xff\\xfe");
  EXPECT_EQ(r->rejected[0].field, "event_id");
}

TEST(IngestServiceTest, OversizedBatchIsInvalidArgument) {
  Harness h;
  std::vector<ReceivedEvent> batch;
  for (int i = 0; i < 1001; ++i) batch.push_back(Event("e" + std::to_string(i), "d"));
  auto result = h.SubmitAndWait(std::move(batch));
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
}

TEST(IngestServiceTest, DatabaseDownIsUnavailableAndNothingIsClaimedStored) {
  Harness h;
  h.fake->FailNext(absl::UnavailableError("db down"));
  std::vector<ReceivedEvent> batch;
  batch.push_back(Event("a", "d1"));
  auto result = h.SubmitAndWait(std::move(batch));
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_EQ(h.fake->stored(), 0u);
}

TEST(GroupCommitterTest, AbortedGroupsAreRetried) {
  Harness h;
  h.fake->FailNext(absl::AbortedError("deadlock"));
  std::vector<ReceivedEvent> batch;
  batch.push_back(Event("a", "d1"));
  auto result = h.SubmitAndWait(std::move(batch));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->accepted, 1);
  EXPECT_EQ(h.fake->commits(), 2);
}

TEST(GroupCommitterTest, FullQueueRefusesWithResourceExhausted) {
  Harness h({.max_queued_events = 3, .max_group_events = 100});
  h.fake->Hold();
  std::vector<absl::Notification> done(2);
  std::vector<ReceivedEvent> first;
  first.push_back(Event("a", "d"));
  first.push_back(Event("b", "d"));
  ASSERT_TRUE(h.service->SubmitBatch(std::move(first), [&](auto) { done[0].Notify(); }).ok());
  std::vector<ReceivedEvent> second;
  second.push_back(Event("c", "d"));
  second.push_back(Event("d", "d"));
  absl::Status refused = h.service->SubmitBatch(std::move(second), [&](auto) {});
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_LE(h.committer->QueuedEvents(), 3u);
  h.fake->Release();
  done[0].WaitForNotification();
}

TEST(GroupCommitterTest, StopCommitsEverythingQueuedThenRefuses) {
  Harness h({.max_queued_events = 1000, .max_group_events = 2});
  std::atomic<int> acked{0};
  for (int i = 0; i < 10; ++i) {
    std::vector<ReceivedEvent> batch;
    batch.push_back(Event("e" + std::to_string(i), "d"));
    ASSERT_TRUE(h.service
                    ->SubmitBatch(std::move(batch),
                                  [&](auto r) {
                                    if (r.ok()) acked.fetch_add(1);
                                  })
                    .ok());
  }
  h.committer->Stop();
  EXPECT_EQ(acked.load(), 10);
  EXPECT_EQ(h.fake->stored(), 10u);
  std::vector<ReceivedEvent> late;
  late.push_back(Event("late", "d"));
  EXPECT_TRUE(absl::IsUnavailable(h.service->SubmitBatch(std::move(late), [](auto) {})));
}

TEST(GroupCommitterTest, GroupsRespectTheSizeBoundAndSliceOutcomesPerBatch) {
  Harness h({.max_queued_events = 1000, .max_group_events = 3});
  h.fake->Hold();
  std::vector<absl::StatusOr<BatchResult>> results(4);
  std::vector<absl::Notification> done(4);
  for (int b = 0; b < 4; ++b) {
    std::vector<ReceivedEvent> batch;
    batch.push_back(Event("x" + std::to_string(b), "d"));
    batch.push_back(Event("shared", "d"));
    ASSERT_TRUE(h.service
                    ->SubmitBatch(std::move(batch),
                                  [&, b](auto r) {
                                    results[b] = std::move(r);
                                    done[b].Notify();
                                  })
                    .ok());
  }
  h.fake->Release();
  int accepted = 0, duplicates = 0;
  for (int b = 0; b < 4; ++b) {
    done[b].WaitForNotification();
    ASSERT_TRUE(results[b].ok());
    accepted += results[b]->accepted;
    duplicates += results[b]->duplicates;
  }
  EXPECT_EQ(accepted, 5);    // x0..x3 + shared once
  EXPECT_EQ(duplicates, 3);  // shared re-sent three times
  EXPECT_GE(h.fake->commits(), 2) << "a group never exceeds max_group_events (except one batch)";
}

TEST(RejectionLabelTest, CodesAreBoundedWords) {
  EXPECT_EQ(RejectionCode("missing: required in production"), "missing");
  EXPECT_EQ(RejectionCode("implausible token count 123 (limit 9)"), "implausible_token_count");
  EXPECT_EQ(RejectionCode("self-parenting: a step"), "self_parenting");
  EXPECT_EQ(RejectionFieldLabel("attributes.any-key"), "attributes");
  EXPECT_EQ(RejectionFieldLabel("tags.team"), "tags.team");
}

}  // namespace
}  // namespace stepledger::domain::ingest
