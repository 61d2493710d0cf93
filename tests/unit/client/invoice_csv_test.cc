#include "client/cli/invoice_command.h"
#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

TEST(InvoiceCsvTest, DailyTotalsSumExactlyPerMonth) {
  auto months = ParseDailyInvoiceCsv(
      "date,amount_usd\n2026-10-31,0.1\n2026-11-01,12.345678901\n# comment\n\n2026-11-02,0.2\n");
  ASSERT_TRUE(months.ok()) << months.status();
  ASSERT_EQ(months->size(), 2u);
  EXPECT_EQ(months->at(absl::CivilMonth(2026, 10)), 100'000'000);
  EXPECT_EQ(months->at(absl::CivilMonth(2026, 11)), 12'545'678'901);
}

TEST(InvoiceCsvTest, ErrorsNameTheLine) {
  auto bad_day = ParseDailyInvoiceCsv("2026-11-01,1\n2026-13-01,1\n");
  ASSERT_FALSE(bad_day.ok());
  EXPECT_NE(bad_day.status().message().find("line 2"), std::string::npos);
  auto twice = ParseDailyInvoiceCsv("2026-11-01,1\n2026-11-01,1\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(ParseDailyInvoiceCsv("2026-11-01;1\n").ok());
  EXPECT_FALSE(ParseDailyInvoiceCsv("").ok());
}

}  // namespace
}  // namespace stepledger::client
