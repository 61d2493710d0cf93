// Protobuf <-> domain conversion for budgets.
#ifndef STEPLEDGER_SERVER_TRANSPORT_BUDGET_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_BUDGET_CONVERT_H_

#include "absl/status/statusor.h"
#include "server/domain/budget/acknowledgements.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/cap_governance.h"
#include "server/domain/budget/check.h"
#include "stepledger/v1/budget.pb.h"

namespace stepledger::transport {

// InvalidArgument naming the field for an enum value the domain does not know.
absl::StatusOr<domain::budget::Cap> FromProto(const v1::Cap& cap);
void ToProto(const domain::budget::Cap& cap, v1::Cap* out);
domain::budget::CheckRequest FromProto(const v1::CheckBudgetRequest& request);
// The reference form of a CheckBudget answer. The collector does not serve it: it writes the
// same bytes directly with CheckResponseEncoder (check_response_encoding.h), and the encoder's
// tests hold its output byte-equal to this message serialized. A new answer field goes in both.
void ToProto(const domain::budget::CheckResult& result, v1::CheckBudgetResponse* out);
void ToProto(const domain::budget::Acknowledgement& ack, v1::Acknowledgement* out);
void ToProto(const domain::budget::CapProposal& proposal, v1::BudgetProposal* out);
v1::Decision ToProto(domain::budget::Decision decision);
v1::Scope ToProto(domain::budget::Scope scope);
v1::Period ToProto(domain::budget::Period period);
v1::CapAction ToProto(domain::budget::Action action);
v1::StalePolicy ToProto(domain::budget::StalePolicy policy);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_BUDGET_CONVERT_H_
