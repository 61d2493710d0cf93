#include "server/domain/budget/cap_change.h"

#include "absl/strings/str_cat.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

// Strictness of a stale policy: what it answers while the counters are unknown.
int Strictness(StalePolicy p) {
  switch (p) {
    case StalePolicy::kRequireAck:
      return 2;
    case StalePolicy::kAlert:
      return 1;
    case StalePolicy::kAnswer:
    case StalePolicy::kUnspecified:
      break;
  }
  return 0;
}

int Strictness(Action a) { return a == Action::kRequireAck ? 1 : 0; }

class Classifier {
 public:
  explicit Classifier(bool enforced) : enforced_(enforced) {}

  // Records one changed setting; `loosens` says whether the new value weakens enforcement.
  template <typename T>
  void Field(const char* name, const T& from, const T& to, bool loosens) {
    if (from == to) return;
    const bool counts = loosens && enforced_;
    out_.changes.push_back(
        absl::StrCat(name, " ", from, " -> ", to, counts ? " (loosens)" : " (safe)"));
    if (counts) {
      out_.effect = ChangeEffect::kLoosens;
    } else if (out_.effect == ChangeEffect::kNone) {
      out_.effect = ChangeEffect::kSafe;
    }
  }
  CapChangeClass Done() && { return std::move(out_); }

 private:
  const bool enforced_;
  CapChangeClass out_;
};

}  // namespace

bool SameSettings(const Cap& a, const Cap& b) {
  return a.id == b.id && a.scope == b.scope && a.key == b.key && a.environment == b.environment &&
         a.period == b.period && a.limit_nano_usd == b.limit_nano_usd && a.action == b.action &&
         a.alert_threshold_bps == b.alert_threshold_bps && a.owner == b.owner &&
         a.shadow == b.shadow && a.stale_policy == b.stale_policy;
}

CapChangeClass ClassifyCapChange(const Cap* before, const Cap* after) {
  if (before == nullptr && after == nullptr) return {};
  if (before == nullptr) return {ChangeEffect::kSafe, {"new cap (safe)"}};
  if (after == nullptr) {
    // A shadow cap enforces nothing: removing it weakens nothing.
    if (before->shadow) return {ChangeEffect::kSafe, {"delete of a shadow cap (safe)"}};
    return {ChangeEffect::kLoosens, {"delete (loosens)"}};
  }
  Classifier c(/*enforced=*/!before->shadow);
  const auto s = [](auto v) { return std::string(ToString(v)); };
  c.Field("scope", s(before->scope), s(after->scope), true);
  c.Field("key", before->key, after->key, true);
  c.Field("environment", std::string(domain::ToString(before->environment)),
          std::string(domain::ToString(after->environment)), true);
  c.Field("period", s(before->period), s(after->period), true);
  c.Field("limit_nano_usd", before->limit_nano_usd, after->limit_nano_usd,
          after->limit_nano_usd > before->limit_nano_usd);
  c.Field("action", s(before->action), s(after->action),
          Strictness(after->action) < Strictness(before->action));
  c.Field("alert_threshold_bps", before->alert_threshold_bps, after->alert_threshold_bps,
          after->alert_threshold_bps > before->alert_threshold_bps);
  c.Field("owner", before->owner, after->owner, true);
  c.Field("shadow", std::string(before->shadow ? "true" : "false"),
          std::string(after->shadow ? "true" : "false"), after->shadow);
  c.Field("stale_policy", s(before->stale_policy), s(after->stale_policy),
          Strictness(after->stale_policy) < Strictness(before->stale_policy));
  return std::move(c).Done();
}

}  // namespace stepledger::domain::budget
