// The tag labels stored in the ledger read back as the values they were written from: the
// ledger store, the budget history and the OTLP mapping all read them through these functions.
#include <optional>

#include "gtest/gtest.h"
#include "server/domain/step.h"

namespace stepledger::domain {
namespace {

TEST(StepLabelsTest, EveryWorkloadClassLabelReadsBackAsItsClass) {
  for (WorkloadClass w : {WorkloadClass::kInteractive, WorkloadClass::kBatch, WorkloadClass::kEval,
                          WorkloadClass::kBackground}) {
    EXPECT_EQ(WorkloadClassFromString(ToString(w)), w) << ToString(w);
  }
  EXPECT_EQ(WorkloadClassFromString(kUnattributed), std::nullopt);
  EXPECT_EQ(WorkloadClassFromString(""), std::nullopt);
  EXPECT_EQ(WorkloadClassFromString("Batch"), std::nullopt);  // labels are stored lower case
}

TEST(StepLabelsTest, EveryEnvironmentLabelReadsBackAsItsEnvironment) {
  for (Environment e : {Environment::kProduction, Environment::kStaging, Environment::kEval}) {
    EXPECT_EQ(EnvironmentFromString(ToString(e)), e) << ToString(e);
  }
  EXPECT_EQ(EnvironmentFromString(""), std::nullopt);  // what kUnspecified prints
  EXPECT_EQ(EnvironmentFromString("prod"), std::nullopt);
  EXPECT_EQ(EnvironmentFromString("Production"), std::nullopt);
}

}  // namespace
}  // namespace stepledger::domain
