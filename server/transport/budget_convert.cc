#include "server/transport/budget_convert.h"

#include "absl/strings/str_cat.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

using domain::budget::Action;
using domain::budget::Period;
using domain::budget::Scope;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1'000'000);
  ts.set_nanos(static_cast<int32_t>((micros % 1'000'000) * 1000));
  return ts;
}

}  // namespace

v1::Scope ToProto(Scope s) {
  switch (s) {
    case Scope::kFeature:
      return v1::SCOPE_FEATURE;
    case Scope::kTeam:
      return v1::SCOPE_TEAM;
    case Scope::kTenant:
      return v1::SCOPE_TENANT;
    case Scope::kOrg:
      return v1::SCOPE_ORG;
    case Scope::kUnspecified:
      break;
  }
  return v1::SCOPE_UNSPECIFIED;
}

v1::Period ToProto(Period p) { return p == Period::kDaily ? v1::PERIOD_DAILY : v1::PERIOD_MONTHLY; }

v1::CapAction ToProto(Action a) {
  return a == Action::kAlert ? v1::CAP_ACTION_ALERT : v1::CAP_ACTION_REQUIRE_ACK;
}

v1::StalePolicy ToProto(domain::budget::StalePolicy p) {
  switch (p) {
    case domain::budget::StalePolicy::kAnswer:
      return v1::STALE_POLICY_ANSWER;
    case domain::budget::StalePolicy::kAlert:
      return v1::STALE_POLICY_ALERT;
    case domain::budget::StalePolicy::kRequireAck:
      return v1::STALE_POLICY_REQUIRE_ACK;
    case domain::budget::StalePolicy::kUnspecified:
      break;
  }
  return v1::STALE_POLICY_UNSPECIFIED;
}

v1::Decision ToProto(domain::budget::Decision decision) {
  switch (decision) {
    case domain::budget::Decision::kAllow:
      return v1::DECISION_ALLOW;
    case domain::budget::Decision::kAlert:
      return v1::DECISION_ALERT;
    case domain::budget::Decision::kRequireAck:
      return v1::DECISION_REQUIRE_ACK;
  }
  return v1::DECISION_UNSPECIFIED;
}

absl::StatusOr<domain::budget::Cap> FromProto(const v1::Cap& in) {
  domain::budget::Cap cap;
  cap.id = in.id();
  switch (in.scope()) {
    case v1::SCOPE_FEATURE:
      cap.scope = Scope::kFeature;
      break;
    case v1::SCOPE_TEAM:
      cap.scope = Scope::kTeam;
      break;
    case v1::SCOPE_TENANT:
      cap.scope = Scope::kTenant;
      break;
    case v1::SCOPE_ORG:
      cap.scope = Scope::kOrg;
      break;
    default:
      return absl::InvalidArgumentError("cap.scope: must be feature, team, tenant or org");
  }
  cap.key = in.key();
  if (cap.scope == Scope::kOrg && cap.key.empty()) cap.key = "*";
  if (!v1::Environment_IsValid(in.environment())) {
    return absl::InvalidArgumentError("cap.environment: unknown value");
  }
  // A cap that names no environment is a production cap.
  cap.environment = in.environment() == v1::ENVIRONMENT_UNSPECIFIED
                        ? domain::Environment::kProduction
                        : EnvironmentFromProto(in.environment());
  switch (in.period()) {
    case v1::PERIOD_DAILY:
      cap.period = Period::kDaily;
      break;
    case v1::PERIOD_MONTHLY:
      cap.period = Period::kMonthly;
      break;
    default:
      return absl::InvalidArgumentError("cap.period: must be daily or monthly");
  }
  cap.limit_nano_usd = in.limit_nano_usd();
  switch (in.action()) {
    case v1::CAP_ACTION_UNSPECIFIED:
      cap.action = Action::kUnspecified;
      break;
    case v1::CAP_ACTION_ALERT:
      cap.action = Action::kAlert;
      break;
    case v1::CAP_ACTION_REQUIRE_ACK:
      cap.action = Action::kRequireAck;
      break;
    default:
      return absl::InvalidArgumentError("cap.action: unknown value");
  }
  switch (in.stale_policy()) {
    case v1::STALE_POLICY_UNSPECIFIED:
      cap.stale_policy = domain::budget::StalePolicy::kUnspecified;
      break;
    case v1::STALE_POLICY_ANSWER:
      cap.stale_policy = domain::budget::StalePolicy::kAnswer;
      break;
    case v1::STALE_POLICY_ALERT:
      cap.stale_policy = domain::budget::StalePolicy::kAlert;
      break;
    case v1::STALE_POLICY_REQUIRE_ACK:
      cap.stale_policy = domain::budget::StalePolicy::kRequireAck;
      break;
    default:
      return absl::InvalidArgumentError("cap.stale_policy: unknown value");
  }
  if (in.alert_threshold_bps() != 0) cap.alert_threshold_bps = in.alert_threshold_bps();
  cap.owner = in.owner();
  cap.signed_off_by = in.signed_off_by();
  cap.shadow = in.shadow();
  return cap;
}

void ToProto(const domain::budget::Cap& cap, v1::Cap* out) {
  out->set_id(cap.id);
  out->set_scope(ToProto(cap.scope));
  out->set_key(cap.key);
  domain::Tags tags;
  tags.environment = cap.environment;
  v1::Tags t;
  transport::ToProto(tags, &t);
  out->set_environment(t.environment());
  out->set_period(ToProto(cap.period));
  out->set_limit_nano_usd(cap.limit_nano_usd);
  out->set_action(ToProto(cap.action));
  out->set_alert_threshold_bps(cap.alert_threshold_bps);
  out->set_owner(cap.owner);
  out->set_signed_off_by(cap.signed_off_by);
  out->set_shadow(cap.shadow);
  out->set_stale_policy(ToProto(cap.stale_policy));
  out->set_revision(cap.revision);
}

void ToProto(const domain::budget::CapProposal& p, v1::BudgetProposal* out) {
  out->set_id(p.id);
  out->set_cap_id(p.cap_id);
  out->set_deletes(!p.cap.has_value());
  if (p.cap.has_value()) ToProto(*p.cap, out->mutable_cap());
  out->set_base_revision(p.base_revision);
  out->set_changes(p.changes);
  out->set_proposed_by(domain::budget::Actor{p.proposed_by, p.proposed_note}.Audited());
  *out->mutable_created_at() = ToTimestamp(p.created_at);
  *out->mutable_expires_at() = ToTimestamp(p.expires_at);
}

domain::budget::CheckRequest FromProto(const v1::CheckBudgetRequest& in) {
  domain::budget::CheckRequest request;
  request.tags = transport::FromProto(in.tags());
  request.estimated_cost_nano_usd = in.estimated_cost_nano_usd();
  request.reserve = in.reserve();
  request.step_id = in.step_id();
  return request;
}

void ToProto(const domain::budget::CheckResult& result, v1::CheckBudgetResponse* out) {
  out->set_decision(ToProto(result.decision));
  out->set_deciding_scope(ToProto(result.deciding_scope));
  out->set_deciding_cap_id(result.deciding_cap_id);
  out->set_reservation_id(result.reservation_id);
  out->mutable_caps()->Reserve(static_cast<int>(result.caps.size()));
  for (const auto& status : result.caps) {
    const domain::budget::Cap& cap = *status.cap;
    v1::CapStatus* s = out->add_caps();
    s->set_cap_id(cap.id);
    s->set_scope(ToProto(cap.scope));
    s->set_key(cap.key);
    s->set_period(ToProto(cap.period));
    s->set_limit_nano_usd(cap.limit_nano_usd);
    s->set_action(ToProto(cap.action));
    s->set_alert_threshold_bps(cap.alert_threshold_bps);
    s->set_owner(cap.owner);
    s->set_shadow(cap.shadow);
    s->set_spent_nano_usd(status.spent);
    s->set_reserved_nano_usd(status.reserved);
    s->set_acknowledged_headroom_nano_usd(status.acknowledged_headroom);
    s->set_remaining_nano_usd(status.remaining);
    s->set_burn_rate_nano_usd_per_hour(status.burn_rate_per_hour);
    // Period bounds are whole seconds (midnight UTC); a projection is an estimate, so
    // truncating it to the second loses nothing a caller can act on.
    s->set_period_start_unix_seconds(absl::ToUnixSeconds(status.period_start));
    s->set_period_end_unix_seconds(absl::ToUnixSeconds(status.period_end));
    if (status.projected_exhaustion.has_value()) {
      s->set_projected_exhaustion_unix_seconds(absl::ToUnixSeconds(*status.projected_exhaustion));
    }
    s->set_decision(ToProto(status.decision));
    s->set_stale_policy(ToProto(cap.stale_policy));
    s->set_stale_policy_applied(status.stale_policy_applied);
  }
  if (result.counters_as_of.has_value()) {
    out->set_counters_as_of_unix_millis(absl::ToUnixMillis(*result.counters_as_of));
    out->set_counters_age_millis(absl::ToInt64Milliseconds(result.counters_age));
  }
  out->set_stale(result.stale);
}

void ToProto(const domain::budget::Acknowledgement& ack, v1::Acknowledgement* out) {
  out->set_id(ack.id);
  out->set_cap_id(ack.cap_id);
  out->set_principal(ack.principal);
  out->set_reason(ack.reason);
  out->set_extra_headroom_nano_usd(ack.extra_headroom);
  out->set_consumed_nano_usd(ack.consumed);
  *out->mutable_created_at() = ToTimestamp(ack.created_at);
  *out->mutable_expires_at() = ToTimestamp(ack.expires_at);
}

}  // namespace stepledger::transport
