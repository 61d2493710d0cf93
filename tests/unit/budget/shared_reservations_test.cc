// Reservations shared between replicas (reservation_sharing.h, migrations/0016): a reservation
// made on one replica holds on every replica and is settled by its step wherever the step is
// stored, within one refresh; expiry releases it everywhere. Several replicas (engine, sharing,
// coordinator) over one in-memory reservations table and a fake clock.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/reservation_sharing.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/fakes/memory_reservation_table.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;
using testing::ReserveReq;

const std::string kKey = "run-1/s1";

struct Replica {
  Replica(const std::string& id, stepledger::testing::FakeClock& clock,
          stepledger::testing::MemoryReservationTable& table)
      : clock(clock),
        engine(clock, EngineOptions{.instance_id = id}),
        sharing(engine, table, clock),
        coordinator(engine, caps, clock, nullptr, kDefaultFullCounterReadInterval, &sharing) {
    caps.SetCap(MakeCap("team", Scope::kTeam, 100 * kUsd));
    EXPECT_TRUE(coordinator.Start().ok());
  }

  NanoUsd TeamReserved() {
    absl::StatusOr<CheckResult> r = coordinator.Check(Req(0));
    EXPECT_TRUE(r.ok());
    for (const CapStatus& st : r->caps) {
      if (st.cap->id == "team") return st.reserved;
    }
    ADD_FAILURE() << "no team cap";
    return -1;
  }
  absl::StatusOr<CheckResult> Reserve(NanoUsd amount, const std::string& step = "s1") {
    return coordinator.Check(ReserveReq(amount, step));
  }
  // This replica's writer stored the step (after its transaction, which settled the row).
  SpendOutcome StoreHere(NanoUsd cost, stepledger::testing::MemoryReservationTable& table,
                         const std::string& step = "s1") {
    table.StoreStep("run-1", step);
    absl::StatusOr<SpendOutcome> out =
        engine.RecordSpend(ProdTags(), cost, clock.Now(), "run-1/" + step);
    EXPECT_TRUE(out.ok());
    return *out;
  }
  const stepledger::testing::FakeClock& clock;
  stepledger::testing::MemoryBudgetRepository caps;
  BudgetEngine engine;
  ReservationSharing sharing;
  BudgetCoordinator coordinator;
};

class SharedReservationsTest : public ::testing::Test {
 protected:
  SharedReservationsTest() : clock_(testing::Utc(2026, 12, 6, 12)), table_(clock_) {
    a_ = std::make_unique<Replica>("a", clock_, table_);
    b_ = std::make_unique<Replica>("b", clock_, table_);
    c_ = std::make_unique<Replica>("c", clock_, table_);
  }
  void RefreshAll() {
    for (Replica* r : {a_.get(), b_.get(), c_.get()}) ASSERT_TRUE(r->coordinator.Refresh().ok());
  }

  stepledger::testing::FakeClock clock_;
  stepledger::testing::MemoryReservationTable table_;
  std::unique_ptr<Replica> a_, b_, c_;
};

TEST_F(SharedReservationsTest, AReservationHoldsOnEveryReplicaAfterItsFlushAndARefresh) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  EXPECT_EQ(a_->TeamReserved(), 30 * kUsd);  // at once on its own replica
  EXPECT_EQ(b_->TeamReserved(), 0);          // not shared yet
  ASSERT_TRUE(a_->sharing.Flush().ok());
  RefreshAll();
  EXPECT_EQ(b_->TeamReserved(), 30 * kUsd);
  EXPECT_EQ(c_->TeamReserved(), 30 * kUsd);
  EXPECT_EQ(b_->engine.Stats().remote_reservations, 1u);
  EXPECT_EQ(b_->engine.Stats().open_reservations, 0u);  // own ones only
  // A second check on another replica sees the hold: 30 held + 80 asked is past the limit.
  absl::StatusOr<CheckResult> r = b_->coordinator.Check(Req(80 * kUsd));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decision, Decision::kRequireAck);
}

TEST_F(SharedReservationsTest, AStepStoredOnAnotherReplicaSettlesTheReservationEverywhere) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  ASSERT_TRUE(a_->sharing.Flush().ok());
  RefreshAll();
  // The step lands on b: its own remote hold goes at once with the commit.
  EXPECT_EQ(b_->StoreHere(30 * kUsd, table_), SpendOutcome::kCountedAndSettled);
  EXPECT_EQ(b_->TeamReserved(), 0);
  EXPECT_EQ(a_->TeamReserved(), 30 * kUsd);  // until a's next refresh
  RefreshAll();
  EXPECT_EQ(a_->TeamReserved(), 0);
  EXPECT_EQ(c_->TeamReserved(), 0);
  const EngineStats a = a_->engine.Stats();
  EXPECT_EQ(a.open_reservations, 0u);
  EXPECT_EQ(a.reservations_settled, 1);
  EXPECT_EQ(a.reservations_expired, 0);
  EXPECT_EQ(c_->engine.Stats().remote_reservations, 0u);
  // Settled is settled on every replica: reserving again for the step is refused anywhere.
  for (Replica* r : {a_.get(), b_.get(), c_.get()}) {
    EXPECT_EQ(r->Reserve(10 * kUsd).status().code(), absl::StatusCode::kAlreadyExists);
  }
}

TEST_F(SharedReservationsTest, AStepStoredBeforeItsRowWasWrittenIsSettledByTheWrite) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  table_.StoreStep("run-1", "s1");  // on b, before a's flush: nothing to settle yet
  ASSERT_TRUE(a_->sharing.Flush().ok());
  ASSERT_TRUE(table_.Row(kKey).has_value());
  EXPECT_TRUE(table_.Row(kKey)->settled);
  RefreshAll();
  EXPECT_EQ(a_->TeamReserved(), 0);
  EXPECT_EQ(b_->TeamReserved(), 0);
}

TEST_F(SharedReservationsTest, AStepThatRacedWithTheWriteIsSettledByTheNextRefresh) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  ASSERT_TRUE(a_->sharing.Flush().ok());
  // The step's transaction looked for the row before the flush committed, and committed after.
  table_.StoreStep("run-1", "s1", /*settle_row=*/false);
  EXPECT_FALSE(table_.Row(kKey)->settled);
  clock_.Advance(absl::Seconds(1));
  RefreshAll();
  EXPECT_TRUE(table_.Row(kKey)->settled);
  EXPECT_EQ(a_->TeamReserved(), 0);
  EXPECT_EQ(b_->TeamReserved(), 0);
}

TEST_F(SharedReservationsTest, ARemoteHoldIsReleasedAtItsExpiryOnEveryReplica) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  ASSERT_TRUE(a_->sharing.Flush().ok());
  RefreshAll();
  clock_.Advance(kDefaultReservationTtl - absl::Seconds(1));
  RefreshAll();
  EXPECT_EQ(b_->TeamReserved(), 30 * kUsd);
  clock_.Advance(absl::Seconds(1));
  RefreshAll();
  for (Replica* r : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(r->TeamReserved(), 0);
  EXPECT_EQ(a_->engine.Stats().reservations_expired, 1);
  EXPECT_EQ(b_->engine.Stats().reservations_expired, 0);  // counted once, by its owner
  EXPECT_EQ(b_->engine.Stats().remote_reservations, 0u);
  // The row goes a minute later; nothing comes back from it.
  clock_.Advance(kFinishedReservationGrace + kReservationUpkeepInterval + absl::Seconds(1));
  RefreshAll();
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(b_->TeamReserved(), 0);
}

TEST_F(SharedReservationsTest, ARetryOnAnotherReplicaReplacesTheHoldInsteadOfAddingOne) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  ASSERT_TRUE(a_->sharing.Flush().ok());
  RefreshAll();
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(b_->Reserve(50 * kUsd).ok());
  EXPECT_EQ(b_->TeamReserved(), 50 * kUsd);  // its own, the remote 30 replaced
  ASSERT_TRUE(b_->sharing.Flush().ok());
  RefreshAll();
  for (Replica* r : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(r->TeamReserved(), 50 * kUsd);
  EXPECT_EQ(a_->engine.Stats().open_reservations, 0u);
  EXPECT_EQ(table_.Row(kKey)->owner, "b");
  // An older reservation written late does not replace the newer row.
  ASSERT_TRUE(table_
                  .Write({SharedReservation{.key = kKey,
                                            .parent_run_id = "run-1",
                                            .step_id = "s1",
                                            .id = "rsv-a-old",
                                            .owner = "a",
                                            .amount = 30 * kUsd,
                                            .tags = ProdTags(),
                                            .created_at = clock_.Now() - absl::Seconds(5),
                                            .expires_at = clock_.Now() + absl::Minutes(9)}})
                  .ok());
  EXPECT_EQ(table_.Row(kKey)->owner, "b");
}

TEST_F(SharedReservationsTest, AReservationSettledOnItsOwnReplicaBeforeTheFlushIsNeverWritten) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  EXPECT_EQ(a_->StoreHere(30 * kUsd, table_), SpendOutcome::kCountedAndSettled);
  ASSERT_TRUE(a_->sharing.Flush().ok());
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(a_->sharing.written(), 0);
}

TEST_F(SharedReservationsTest, AFailedFlushIsRetriedAndAFailedReadIsReadAgainInFull) {
  ASSERT_TRUE(a_->Reserve(30 * kUsd).ok());
  table_.fail_writes = true;
  EXPECT_FALSE(a_->sharing.Flush().ok());
  table_.fail_writes = false;
  ASSERT_TRUE(a_->sharing.Flush().ok());
  EXPECT_EQ(a_->sharing.written(), 1);
  table_.fail_reads = true;
  EXPECT_FALSE(b_->coordinator.Refresh().ok());
  EXPECT_EQ(b_->TeamReserved(), 0);
  table_.fail_reads = false;
  ASSERT_TRUE(b_->coordinator.Refresh().ok());
  EXPECT_EQ(b_->TeamReserved(), 30 * kUsd);
}

}  // namespace
}  // namespace stepledger::domain::budget
