// LoadShowbackReport (domain/reports/showback_loading.h) over a fake loader and rollup runner:
// missing days are rolled up only when asked, exactly those, and the report is built from the
// inputs loaded after the rollup; a held lock or a missing runner are handled as documented.
#include "server/domain/reports/showback_loading.h"

#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace stepledger::domain::reports {
namespace {

class ShowbackLoadingTest : public ::testing::Test {
 protected:
  ShowbackLoader Loader() {
    return [this](absl::CivilDay from, absl::CivilDay to, const std::string&) {
      ++loads_;
      ShowbackInputs in;
      in.from = from;
      in.to = to;
      in.through = from - 1;
      for (absl::CivilDay d = from; d <= to; ++d) {
        if (rolled_.count(d) == 0) {
          in.missing_days.push_back(d);
          continue;
        }
        in.through = d;
        RollupRow row;
        row.day = d;
        row.team = "mail";
        row.cost_nano_usd = 10;
        in.rows.push_back(row);
      }
      return absl::StatusOr<ShowbackInputs>(std::move(in));
    };
  }
  RollupRunner Runner(bool lock_held) {
    return [this, lock_held](absl::CivilDay from, absl::CivilDay to) {
      runs_.push_back({from, to});
      RollupRunResult run;
      run.ran = !lock_held;
      if (run.ran) {
        for (absl::CivilDay d = from; d <= to; ++d) rolled_.insert(d);
      }
      return absl::StatusOr<RollupRunResult>(run);
    };
  }

  const absl::CivilDay first_{2025, 3, 1}, last_{2025, 3, 4};
  std::set<absl::CivilDay> rolled_{absl::CivilDay(2025, 3, 1), absl::CivilDay(2025, 3, 2)};
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> runs_;
  int loads_ = 0;
};

TEST_F(ShowbackLoadingTest, RollsUpExactlyTheMissingDaysWhenAskedThenReportsThem) {
  absl::StatusOr<ShowbackReport> r =
      LoadShowbackReport(Loader(), Runner(false), {first_, last_, "", true}, absl::UnixEpoch());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_[0].first, absl::CivilDay(2025, 3, 3));
  EXPECT_EQ(runs_[0].second, absl::CivilDay(2025, 3, 4));
  EXPECT_EQ(loads_, 2);
  EXPECT_TRUE(r->missing_days.empty());
  EXPECT_EQ(r->total_spend_nano_usd, 40);
}

TEST_F(ShowbackLoadingTest, WithoutTheRequestOrWithTheLockHeldTheMissingDaysStayListed) {
  absl::StatusOr<ShowbackReport> r =
      LoadShowbackReport(Loader(), Runner(false), {first_, last_, "", false}, absl::UnixEpoch());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(runs_.empty());
  EXPECT_EQ(r->missing_days.size(), 2u);
  EXPECT_EQ(r->total_spend_nano_usd, 20);

  r = LoadShowbackReport(Loader(), Runner(true), {first_, last_, "", true}, absl::UnixEpoch());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(runs_.size(), 1u);
  EXPECT_EQ(r->missing_days.size(), 2u);
}

TEST_F(ShowbackLoadingTest, AskingToRollUpWithoutARunnerFailsNamingTheField) {
  absl::StatusOr<ShowbackReport> r =
      LoadShowbackReport(Loader(), nullptr, {first_, last_, "", true}, absl::UnixEpoch());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("roll_up_missing"), std::string::npos);
}

}  // namespace
}  // namespace stepledger::domain::reports
