// Conversions between the Admin API (admin.proto) and the domain values its operations use.
// Requests are validated here: errors are InvalidArgument naming the request field.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_TRANSPORT_ADMIN_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_ADMIN_CONVERT_H_

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/auth/audit.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/what_if.h"
#include "server/domain/pricing/model_price.h"
#include "server/domain/pricing/price_admin.h"
#include "server/domain/pricing/price_step.h"
#include "server/domain/pricing/quote.h"
#include "server/domain/reports/rollup_result.h"
#include "server/domain/reports/showback.h"
#include "stepledger/v1/admin.pb.h"

namespace stepledger::transport {

// The longest range one RollUp call takes (about 13 months).
inline constexpr int kMaxRollupDays = 400;

absl::Time FromProto(const google::protobuf::Timestamp& ts);
void ToProto(absl::Time t, google::protobuf::Timestamp* out);

void ToProto(const domain::reports::RollupRunResult& run, v1::RollUpResponse* out);

// Provider required; at least one month, each "YYYY-MM" at most once, amounts >= 0.
absl::StatusOr<std::vector<domain::reports::Invoice>> FromProto(
    const v1::ImportInvoiceRequest& request);

void ToProto(const domain::pricing::UnpricedGroup& group, v1::UnpricedGroup* out);
// model_text required.
absl::StatusOr<domain::pricing::CatalogTexts> FromProto(const v1::LoadPriceCatalogRequest& request);
void ToProto(const domain::pricing::PriceVersionInfo& info, v1::PriceVersionInfo* out);
void ToProto(const domain::pricing::RepriceReport& report, v1::RepriceResponse* out);

// Absent counts stay absent (unknown, never 0).
domain::Usage FromProto(const v1::Usage& usage);

// The model's catalog entry, every tier's rates, the catalog's name and, when a call was
// quoted, the quote (or why it would be unpriced).
void ToProto(const domain::pricing::CallQuote& quote, const domain::pricing::PriceVersion& version,
             v1::QuotePriceResponse* out);

// The proposed caps: "caps[i].<field>" errors for values the domain does not know. A missing
// id becomes "proposed-<i>", a missing owner or signed_off_by "whatif": a proposal needs none.
absl::StatusOr<std::vector<domain::budget::Cap>> FromProto(const v1::WhatIfBudgetRequest& request);
void ToProto(const domain::budget::WhatIfReport& report, v1::WhatIfBudgetResponse* out);

// A request's free-text `reason` (kept as the audit row's note): at most kMaxReasonBytes.
inline constexpr size_t kMaxReasonBytes = 1000;
absl::Status CheckReason(const std::string& reason);
void ToProto(const domain::auth::AdminAuditRecord& record, v1::AdminAuditEntry* out);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_ADMIN_CONVERT_H_
