// A budget cap as data: what it limits, for whom, over which calendar period, and what crossing
// it does. Caps arrive from PutBudget / `stepledger budget apply` and are stored in PostgreSQL;
// the engine only keeps them in memory.
//
// Thread safety: plain values; copy freely. Free functions are pure.
//
// Invariants of a cap accepted by ValidateCap():
//   - scope, environment, period and action are concrete (never kUnspecified);
//   - key is "*" for kOrg, a feature/team slug for kFeature/kTeam, a tenant id for kTenant;
//   - 0 <= limit_nano_usd <= kMaxLimitNanoUsd, so limit + headroom + estimate never overflow
//     the 128-bit arithmetic of the decision;
//   - 1 <= alert_threshold_bps <= 10000 (basis points of the limit: 8000 = 80%). The threshold is
//     an integer so that "exactly 80%" is decided exactly, never by a floating-point rounding.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

// Ordered from narrowest to broadest; the order is also the tier order reported to clients.
enum class Scope { kUnspecified, kFeature, kTeam, kTenant, kOrg };
// Calendar periods in UTC: a daily cap resets at 00:00 UTC, a monthly cap on the 1st 00:00 UTC.
enum class Period { kUnspecified, kDaily, kMonthly };
// What a cap does once a check would take spend strictly past its limit.
enum class Action { kUnspecified, kAlert, kRequireAck };
// What a cap answers while the counters behind a check are stale (older than the collector's
// stale limit: the database is away or the refresh keeps failing), so the other replicas'
// spend since then is unknown. Stored with the cap, so every replica applies the same.
//   kAnswer     keep deciding from the counters in memory (the answer says they are stale);
//   kAlert      at least ALERT: the step may go ahead, the cap's owner is told;
//   kRequireAck REQUIRE_ACK whatever the figures say (fail closed); only a require_ack cap.
enum class StalePolicy { kUnspecified, kAnswer, kAlert, kRequireAck };

std::string_view ToString(Scope v);
std::string_view ToString(Period v);
std::string_view ToString(Action v);
std::string_view ToString(StalePolicy v);

// The org cap's key: it matches every step of its environment.
inline constexpr std::string_view kOrgKey = "*";
inline constexpr int32_t kDefaultAlertThresholdBps = 8000;  // 80%
inline constexpr int32_t kBasisPointsPerWhole = 10000;
// $1e9: far above any real cap, far below overflow of int64 sums of a few such values.
inline constexpr NanoUsd kMaxLimitNanoUsd = 1'000'000'000 * kNanoUsdPerUsd;

struct Cap {
  std::string id;  // Stable identifier chosen by the owner ("team-search-daily").
  Scope scope = Scope::kUnspecified;
  std::string key;  // The feature, team or tenant it limits; "*" for org.
  Environment environment = Environment::kProduction;
  Period period = Period::kUnspecified;
  NanoUsd limit_nano_usd = 0;
  Action action = Action::kUnspecified;  // kUnspecified: the tier default, see DefaultAction().
  int32_t alert_threshold_bps = kDefaultAlertThresholdBps;
  std::string owner;  // Who is told, and who can acknowledge.
  // The credential identity of the second principal who approved the revision in force
  // (cap_governance.h); empty while the revision awaits sign-off. Never what a caller typed.
  std::string signed_off_by;
  bool shadow = false;  // Evaluated and reported, never changes a decision.
  // kUnspecified: the action's default, see DefaultStalePolicy().
  StalePolicy stale_policy = StalePolicy::kUnspecified;
  // Bumped by every stored change that takes effect (0: not read from storage).
  int64_t revision = 0;
  // The credential identity that made the revision in force (it cannot sign it off).
  std::string changed_by;
};

// The finance model's defaults:
//   feature -> kAlert      a feature cap is a soft early warning for the feature's team;
//   team    -> kRequireAck the team owns the budget line, crossing it needs a human;
//   tenant  -> kAlert      stopping one customer's work is a product decision, so a tenant cap
//                          only blocks when its owner sets kRequireAck explicitly;
//   org     -> kRequireAck the emergency cap.
Action DefaultAction(Scope scope);

// A hard cap fails closed: a require_ack cap answers REQUIRE_ACK from stale counters (an
// unknown amount may have been spent past it on other replicas), an alert-only cap ALERT (it
// never blocks, but nobody can say it is under its threshold).
StalePolicy DefaultStalePolicy(Action action);

// Fills the fields whose default depends on others (action by tier, then the stale policy by
// action). Idempotent.
Cap ApplyCapDefaults(Cap cap);

// OK, or InvalidArgument whose message starts with the offending field's name.
// REQUIRES: ApplyCapDefaults() has run (an unspecified action is rejected).
absl::Status ValidateCap(const Cap& cap);

// Whether `key` has the tag form that `scope` uses (slug for feature/team, tenant id for
// tenant, "*" for org). Shared by cap validation and check validation.
bool IsValidScopeKey(Scope scope, std::string_view key);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_H_
