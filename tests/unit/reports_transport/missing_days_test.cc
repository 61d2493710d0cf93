// Reports.GetShowback for a period not (fully) rolled up: the days without a rollup are listed
// in missing_days, and roll_up_missing rolls exactly those up first (or, when another rollup
// holds the lock, reports without them and still lists them). In-process server, fake loader
// and rollup runner.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/transport/reports_service.h"
#include "server/transport/work_pool.h"
#include "tests/fakes/no_auth.h"

namespace stepledger::transport {
namespace {

namespace reports = domain::reports;

class MissingDaysTest : public ::testing::Test {
 protected:
  void Start(bool lock_held) {
    lock_held_ = lock_held;
    service_ = std::make_unique<ReportsService>(
        [this](absl::CivilDay from, absl::CivilDay to, const std::string&) {
          absl::MutexLock lock(&mu_);
          reports::ShowbackInputs in;
          in.from = from;
          in.to = to;
          in.through = from - 1;
          for (absl::CivilDay d = from; d <= to; ++d) {
            if (rolled_.count(d) == 0) {
              in.missing_days.push_back(d);
            } else {
              in.through = d;
            }
          }
          return absl::StatusOr<reports::ShowbackInputs>(in);
        },
        pool_, stepledger::testing::NoAuth(),
        [this](absl::CivilDay from, absl::CivilDay to) {
          absl::MutexLock lock(&mu_);
          ++rollups_;
          rolled_from_ = from;
          rolled_to_ = to;
          reports::RollupRunResult run;
          run.ran = !lock_held_;
          if (run.ran) {
            for (absl::CivilDay d = from; d <= to; ++d) rolled_.insert(d);
          }
          return absl::StatusOr<reports::RollupRunResult>(run);
        });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::Reports::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  v1::ShowbackReport Get(bool roll_up_missing) {
    v1::ShowbackRequest request;
    request.mutable_range()->set_from("2026-11-01");
    request.mutable_range()->set_to("2026-11-04");
    request.set_roll_up_missing(roll_up_missing);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ShowbackReport report;
    const grpc::Status status = stub_->GetShowback(&ctx, request, &report);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report;
  }

  absl::Mutex mu_;
  std::set<absl::CivilDay> rolled_ ABSL_GUARDED_BY(mu_) = {absl::CivilDay(2026, 11, 1),
                                                           absl::CivilDay(2026, 11, 2)};
  int rollups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::CivilDay rolled_from_ ABSL_GUARDED_BY(mu_), rolled_to_ ABSL_GUARDED_BY(mu_);
  bool lock_held_ = false;
  WorkPool pool_{1, 4};
  std::unique_ptr<ReportsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Reports::Stub> stub_;
};

TEST_F(MissingDaysTest, DaysNotRolledUpAreListedAndNothingIsRolledUpUnasked) {
  Start(/*lock_held=*/false);
  const v1::ShowbackReport report = Get(/*roll_up_missing=*/false);
  ASSERT_EQ(report.missing_days_size(), 2);
  EXPECT_EQ(report.missing_days(0), "2026-11-03");
  EXPECT_EQ(report.missing_days(1), "2026-11-04");
  EXPECT_EQ(report.through(), "2026-11-02");
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(rollups_, 0);
}

TEST_F(MissingDaysTest, RollUpMissingRollsUpExactlyTheMissingDaysFirst) {
  Start(/*lock_held=*/false);
  const v1::ShowbackReport report = Get(/*roll_up_missing=*/true);
  EXPECT_EQ(report.missing_days_size(), 0);
  EXPECT_EQ(report.through(), "2026-11-04");
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(rollups_, 1);
  EXPECT_EQ(rolled_from_, absl::CivilDay(2026, 11, 3));
  EXPECT_EQ(rolled_to_, absl::CivilDay(2026, 11, 4));
}

TEST_F(MissingDaysTest, WhenAnotherRollupHoldsTheLockTheReportStillSaysWhatIsMissing) {
  Start(/*lock_held=*/true);
  const v1::ShowbackReport report = Get(/*roll_up_missing=*/true);
  EXPECT_EQ(report.missing_days_size(), 2);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(rollups_, 1);
}

}  // namespace
}  // namespace stepledger::transport
