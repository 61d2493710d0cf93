#include "server/transport/status_convert.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error_ref.h"
#include "server/common/log.h"

namespace stepledger::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusConvertTest, OkIsOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(StatusConvertTest, CodesMapOneToOne) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status s(static_cast<absl::StatusCode>(code), "x");
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(static_cast<int>(ToGrpcStatus(s).error_code()), code);
    ::testing::internal::GetCapturedStderr();
  }
  EXPECT_EQ(ToAbslStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no run")),
            absl::NotFoundError("no run"));
}

TEST(StatusConvertTest, ClientFacingMessagesPassThrough) {
  for (const absl::Status& s :
       {absl::InvalidArgumentError("tags.team: required in production"),
        absl::NotFoundError("run r-1 not found"), absl::UnavailableError("database unreachable"),
        absl::ResourceExhaustedError("write queue full"),
        absl::FailedPreconditionError("cap not found")}) {
    ::testing::internal::CaptureStderr();
    const grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(g.error_message(), s.message());
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "nothing to log: " << s;
  }
}

TEST(StatusConvertTest, InternalDetailIsLoggedAndReplacedByAReference) {
  for (const absl::StatusCode code :
       {absl::StatusCode::kInternal, absl::StatusCode::kUnknown, absl::StatusCode::kDataLoss}) {
    const absl::Status s(code, "event e-1 neither claimed nor stored; SELECT ... FROM steps");
    ::testing::internal::CaptureStderr();
    const grpc::Status g = ToGrpcStatus(s);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(static_cast<absl::StatusCode>(g.error_code()), code);
    EXPECT_THAT(g.error_message(), Not(HasSubstr("e-1")));
    EXPECT_THAT(g.error_message(), Not(HasSubstr("SELECT")));
    EXPECT_THAT(g.error_message(), HasSubstr(std::string(kInternalError) + " (ref "));
    // The client's ref finds the detail in the log.
    const size_t at = g.error_message().find("(ref ");
    ASSERT_NE(at, std::string::npos);
    const std::string ref = g.error_message().substr(at + 5, 16);
    EXPECT_THAT(log, HasSubstr("ref=" + ref));
    EXPECT_THAT(log, HasSubstr("neither claimed nor stored"));
  }
}

TEST(StatusConvertTest, AStatusThatAlreadyHasARefIsNotLoggedAgain) {
  ::testing::internal::CaptureStderr();
  const absl::Status storage =
      errors::Referenced(absl::StatusCode::kInternal, "storage error; see collector log",
                         log::Level::kError, "storage error", {{"detail", "secret"}});
  const std::string first = ::testing::internal::GetCapturedStderr();
  ::testing::internal::CaptureStderr();
  const grpc::Status g = ToGrpcStatus(storage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(g.error_message(), storage.message());
  EXPECT_THAT(first, HasSubstr("ref=" + *errors::RefOf(storage)));
}

}  // namespace
}  // namespace stepledger::transport
