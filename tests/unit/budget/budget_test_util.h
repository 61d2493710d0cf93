// Shared helpers for the budget unit tests: times, tags and caps with readable defaults.
#ifndef STEPLEDGER_TESTS_UNIT_BUDGET_BUDGET_TEST_UTIL_H_
#define STEPLEDGER_TESTS_UNIT_BUDGET_BUDGET_TEST_UTIL_H_

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/check.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget::testing {

inline constexpr NanoUsd kUsd = kNanoUsdPerUsd;

inline absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

inline Tags ProdTags(std::string feature = "inbox-triage", std::string team = "search",
                     std::string tenant = "acme", std::string run = "run-1") {
  Tags t;
  t.feature = std::move(feature);
  t.team = std::move(team);
  t.tenant = std::move(tenant);
  t.workload_class = WorkloadClass::kInteractive;
  t.environment = Environment::kProduction;
  t.parent_run_id = std::move(run);
  return t;
}

// A cap with the tier's default action (unless set afterwards) and the keys of ProdTags().
inline Cap MakeCap(std::string id, Scope scope, NanoUsd limit, Period period = Period::kDaily) {
  Cap c;
  c.id = std::move(id);
  c.scope = scope;
  switch (scope) {
    case Scope::kFeature:
      c.key = "inbox-triage";
      break;
    case Scope::kTeam:
      c.key = "search";
      break;
    case Scope::kTenant:
      c.key = "acme";
      break;
    default:
      c.key = std::string(kOrgKey);
      break;
  }
  c.period = period;
  c.limit_nano_usd = limit;
  c.owner = "lead@example.com";
  c.signed_off_by = "finance@example.com";
  return c;
}

inline CheckRequest Req(NanoUsd estimate, Tags tags = ProdTags()) {
  CheckRequest r;
  r.tags = std::move(tags);
  r.estimated_cost_nano_usd = estimate;
  return r;
}

inline CheckRequest ReserveReq(NanoUsd estimate, std::string step_id, Tags tags = ProdTags()) {
  CheckRequest r = Req(estimate, std::move(tags));
  r.reserve = true;
  r.step_id = std::move(step_id);
  return r;
}

}  // namespace stepledger::domain::budget::testing

#endif  // STEPLEDGER_TESTS_UNIT_BUDGET_BUDGET_TEST_UTIL_H_
