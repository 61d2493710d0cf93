// The report -> proto conversion of what issue 20 added: the total with quarantined spend, the
// "(unattributed)" tenant marked as no tenant, the unpriced list and its counts, and the
// UNPRICED format both ways.
#include "server/transport/reports_convert.h"

#include "gtest/gtest.h"
#include "server/domain/reports/showback.h"

namespace stepledger::transport {
namespace {

using domain::reports::BuildShowback;
using domain::reports::FocusRow;
using domain::reports::QuarantineRow;
using domain::reports::RollupRow;
using domain::reports::ShowbackInputs;

TEST(ReportsConvertTest, TotalsUnattributedTenantAndUnpricedListReachTheProto) {
  ShowbackInputs in;
  in.from = in.to = in.through = absl::CivilDay(2025, 3, 2);
  RollupRow row;
  row.day = in.from;
  row.team = "mail";
  row.tenant = "(unattributed)";
  row.cost_nano_usd = 700;
  row.unpriced_steps = 2;
  in.rows.push_back(row);
  in.quarantine_rows.push_back(QuarantineRow{in.from, "", "missing team", "production", 2, 1, 300});
  FocusRow unpriced;
  unpriced.day = in.from;
  unpriced.source = "ledger";
  unpriced.team = "mail";
  unpriced.model = "mystery";
  unpriced.run = "run-9";
  unpriced.unpriced_reason = "unknown_model";
  unpriced.steps = 2;
  in.focus_rows.push_back(unpriced);

  v1::ShowbackReport proto;
  ToProto(BuildShowback(in, absl::UnixEpoch()), v1::ENVIRONMENT_UNSPECIFIED, &proto);
  EXPECT_EQ(proto.spend_nano_usd(), 700);
  EXPECT_EQ(proto.total_spend_nano_usd(), 1000);
  EXPECT_EQ(proto.data_quality().quarantined_spend_nano_usd(), 300);
  EXPECT_EQ(proto.data_quality().unpriced_steps(), 2);
  EXPECT_EQ(proto.data_quality().unpriced_quarantined_events(), 1);
  ASSERT_EQ(proto.tenants_size(), 1);
  EXPECT_TRUE(proto.tenants(0).unattributed());
  EXPECT_FALSE(proto.tenants(0).margin_risk());
  ASSERT_EQ(proto.unpriced_size(), 1);
  EXPECT_EQ(proto.unpriced(0).day(), "2025-03-02");
  EXPECT_EQ(proto.unpriced(0).reason(), "unknown_model");
  EXPECT_EQ(proto.unpriced(0).model(), "mystery");
  EXPECT_EQ(proto.unpriced(0).run(), "run-9");
  EXPECT_EQ(proto.unpriced(0).steps(), 2);
}

TEST(ReportsConvertTest, TheUnpricedFormatIsAcceptedAndNamed) {
  v1::ShowbackRequest request;
  request.set_month("2025-03");
  request.set_format(v1::REPORT_FORMAT_UNPRICED);
  absl::StatusOr<ShowbackQuery> q = FromProto(request, absl::CivilDay(2025, 3, 9));
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(q->format.has_value());
  EXPECT_EQ(*q->format, render::ReportFormat::kUnpriced);
  EXPECT_EQ(ToProto(render::ReportFormat::kUnpriced), v1::REPORT_FORMAT_UNPRICED);
}

}  // namespace
}  // namespace stepledger::transport
