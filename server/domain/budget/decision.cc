#include "server/domain/budget/decision.h"

#include <algorithm>

#include "absl/numeric/int128.h"

namespace stepledger::domain::budget {
namespace {

// projected >= threshold of ceiling, exactly: projected * 10000 >= bps * ceiling.
bool AtOrPastThreshold(absl::int128 projected, absl::int128 ceiling, int32_t bps) {
  return projected * kBasisPointsPerWhole >= ceiling * bps;
}

}  // namespace

std::string_view ToString(Decision v) {
  switch (v) {
    case Decision::kAllow:
      return "allow";
    case Decision::kAlert:
      return "alert";
    case Decision::kRequireAck:
      return "require_ack";
  }
  return "require_ack";
}

Decision DecideCap(const Cap& cap, NanoUsd spent, NanoUsd reserved, NanoUsd estimate,
                   const AckHeadroom& ack) {
  const absl::int128 limit = cap.limit_nano_usd;
  const absl::int128 projected = absl::int128(spent) + reserved + estimate;
  if (projected <= limit) {
    return AtOrPastThreshold(projected, limit, cap.alert_threshold_bps) ? Decision::kAlert
                                                                        : Decision::kAllow;
  }
  if (cap.action == Action::kAlert) return Decision::kAlert;
  const absl::int128 new_past_limit = projected - std::max<absl::int128>(spent, limit);
  if (ack.remaining > 0 && new_past_limit <= ack.remaining) {
    const absl::int128 ceiling = limit + ack.granted;
    return AtOrPastThreshold(projected, ceiling, cap.alert_threshold_bps) ? Decision::kAlert
                                                                          : Decision::kAllow;
  }
  return Decision::kRequireAck;
}

NanoUsd PastLimitGrowth(NanoUsd limit, NanoUsd before, NanoUsd after) {
  return std::max<NanoUsd>(0, after - std::max(before, limit));
}

Decision StaleDecision(StalePolicy policy, Decision from_figures) {
  switch (policy) {
    case StalePolicy::kAlert:
      return std::max(from_figures, Decision::kAlert);
    case StalePolicy::kRequireAck:
      return Decision::kRequireAck;
    case StalePolicy::kAnswer:
      break;
    case StalePolicy::kUnspecified:
      // ValidateCap refuses an unresolved policy; should one get here, fail closed.
      return Decision::kRequireAck;
  }
  return from_figures;
}

}  // namespace stepledger::domain::budget
