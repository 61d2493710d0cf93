// Integration: the sign-off flow's store (PgCapChangeStore, migration 0023) on a real
// PostgreSQL. Revisions move with every change that takes effect; a proposal waits without
// touching the cap and is applied atomically with audit rows naming both credentials; a
// change made meanwhile makes it stale; a typed sign-off from before 0023 is cleared with an
// audit row saying so; and the stored caps are what PgBudgetStore (every replica's refresh)
// reads.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/cap.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_budget_store.h"
#include "server/storage/pg_cap_change_store.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using domain::budget::Actor;
using domain::budget::Cap;
using domain::budget::CapProposal;
using testing::TestDatabase;

const Actor kAlice{"key:alice/a1", "from the runbook"};
const Actor kBob{"key:bob/b2", ""};

Cap TeamCap(int64_t limit) {
  Cap cap;
  cap.id = "team-search";
  cap.scope = domain::budget::Scope::kTeam;
  cap.key = "search";
  cap.period = domain::budget::Period::kMonthly;
  cap.limit_nano_usd = limit;
  cap.owner = "search-leads";
  return domain::budget::ApplyCapDefaults(cap);
}

class CapSignOffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }

  int64_t Audit(const std::string& where) {
    return db_.Count("SELECT count(*) FROM budget_audit WHERE cap_id = 'team-search' AND " + where);
  }

  TestDatabase db_;
  storage::PgCapChangeStore store_{db_.url()};
};

TEST_F(CapSignOffTest, RevisionsProposalsAndApprovalsAreAtomicAndAudited) {
  absl::StatusOr<std::optional<Cap>> created =
      store_.ApplyChange("team-search", 0, TeamCap(100), kAlice, "");
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(created->has_value());
  EXPECT_EQ((*created)->revision, 1);
  EXPECT_EQ((*created)->changed_by, kAlice.identity);
  EXPECT_EQ((*created)->signed_off_by, "");
  // Another writer that still thinks the cap is absent is refused.
  EXPECT_EQ(store_.ApplyChange("team-search", 0, TeamCap(50), kBob, "").status().code(),
            absl::StatusCode::kAborted);

  absl::StatusOr<std::vector<Cap>> awaiting = store_.ListAwaitingSignOff("");
  ASSERT_TRUE(awaiting.ok()) << awaiting.status();
  ASSERT_EQ(awaiting->size(), 1u);
  absl::StatusOr<Cap> signed_off = store_.SignOff("team-search", 1, kBob, "reviewed");
  ASSERT_TRUE(signed_off.ok()) << signed_off.status();
  EXPECT_EQ(signed_off->signed_off_by, kBob.identity);
  EXPECT_EQ(Audit("action = 'sign_off' AND changed_by = 'key:alice/a1' AND "
                  "approved_by = 'key:bob/b2' AND reason = 'reviewed'"),
            1);
  EXPECT_EQ(store_.SignOff("team-search", 1, kBob, "").status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "signed off already";

  // A loosening proposal leaves the cap as it is.
  CapProposal p;
  p.cap_id = "team-search";
  p.base_revision = 1;
  p.cap = TeamCap(1000);
  p.changes = "limit_nano_usd 100 -> 1000 (loosens)";
  p.proposed_by = kAlice.identity;
  p.proposed_note = kAlice.note;
  p.expires_at = absl::Now() + absl::Hours(1);
  absl::StatusOr<CapProposal> proposed = store_.Propose(p, kAlice);
  ASSERT_TRUE(proposed.ok()) << proposed.status();
  EXPECT_GT(proposed->id, 0);
  EXPECT_EQ(db_.Count("SELECT limit_nano_usd FROM budgets WHERE id = 'team-search'"), 100);
  absl::StatusOr<std::vector<CapProposal>> open = store_.ListOpenProposals("", absl::Now());
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 1u);
  ASSERT_TRUE((*open)[0].cap.has_value());
  EXPECT_EQ((*open)[0].cap->limit_nano_usd, 1000) << "the proposed cap reads back";
  EXPECT_EQ((*open)[0].proposed_by, kAlice.identity);
  EXPECT_TRUE(store_.ListOpenProposals("", absl::Now() + absl::Hours(2))->empty())
      << "expired proposals are not open";

  absl::StatusOr<std::optional<Cap>> applied =
      store_.ApplyProposal(proposed->id, kBob, "budget line raised", absl::Now());
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->limit_nano_usd, 1000);
  EXPECT_EQ((*applied)->revision, 2);
  EXPECT_EQ((*applied)->changed_by, kAlice.identity);
  EXPECT_EQ((*applied)->signed_off_by, kBob.identity);
  EXPECT_EQ(Audit("action = 'update' AND changed_by = 'key:alice/a1 (note: from the runbook)' "
                  "AND approved_by = 'key:bob/b2' AND proposal_id = " +
                  std::to_string(proposed->id)),
            1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_proposals WHERE state = 'approved' AND "
                      "decided_by = 'key:bob/b2'"),
            1);
  EXPECT_EQ(store_.ApplyProposal(proposed->id, kBob, "", absl::Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "applied once";

  // Every replica's refresh reads the stored cap (PgBudgetStore::LoadCaps).
  storage::PgBudgetStore caps(db_.url());
  absl::StatusOr<std::vector<Cap>> loaded = caps.LoadCaps();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].limit_nano_usd, 1000);
  EXPECT_EQ((*loaded)[0].signed_off_by, kBob.identity);
}

TEST_F(CapSignOffTest, AChangeMadeMeanwhileSupersedesAProposalAndADeleteWaitsForApproval) {
  ASSERT_TRUE(store_.ApplyChange("team-search", 0, TeamCap(100), kAlice, "").ok());
  CapProposal p;
  p.cap_id = "team-search";
  p.base_revision = 1;
  p.changes = "delete (loosens)";
  p.proposed_by = kAlice.identity;
  p.expires_at = absl::Now() + absl::Hours(1);
  absl::StatusOr<CapProposal> del = store_.Propose(p, kAlice);
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets"), 1) << "a proposed delete deletes nothing";

  // A tightening takes effect and supersedes the open proposal.
  ASSERT_TRUE(store_.ApplyChange("team-search", 1, TeamCap(50), kAlice, "").ok());
  absl::Status stale = store_.ApplyProposal(del->id, kBob, "", absl::Now()).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.message().find("proposal " + std::to_string(del->id)), std::string::npos)
      << stale;
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets"), 1);

  p.base_revision = 2;
  absl::StatusOr<CapProposal> again = store_.Propose(p, kAlice);
  ASSERT_TRUE(again.ok()) << again.status();
  absl::StatusOr<std::optional<Cap>> gone = store_.ApplyProposal(again->id, kBob, "", absl::Now());
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets"), 0);
  EXPECT_EQ(Audit("action = 'delete' AND approved_by = 'key:bob/b2'"), 1);
  EXPECT_EQ(Audit("action = 'propose'"), 2);
}

TEST_F(CapSignOffTest, OnlyOneProposalPerCapIsOpen) {
  ASSERT_TRUE(store_.ApplyChange("team-search", 0, TeamCap(100), kAlice, "").ok());
  CapProposal p;
  p.cap_id = "team-search";
  p.base_revision = 1;
  p.cap = TeamCap(200);
  p.changes = "x";
  p.proposed_by = kAlice.identity;
  p.expires_at = absl::Now() + absl::Hours(1);
  ASSERT_TRUE(store_.Propose(p, kAlice).ok());
  p.cap = TeamCap(300);
  ASSERT_TRUE(store_.Propose(p, kBob).ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_proposals WHERE state = 'open'"), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_proposals WHERE state = 'superseded'"), 1);
}

}  // namespace
}  // namespace stepledger
