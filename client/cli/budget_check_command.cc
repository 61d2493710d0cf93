// `stepledger budget check|ack|acks|whatif`: the subcommands that ask for decisions,
// acknowledge overruns and replay proposed caps (budget_command.cc has the caps themselves).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <map>
#include <set>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/budget_cli.h"
#include "client/cli/budget_file.h"
#include "client/cli/money.h"
#include "client/cli/operation_progress.h"
#include "client/lib/admin_client.h"
#include "client/lib/budget_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client::budget_cli {

using stepledger::v1::Cap;

namespace {

void PrintCheck(const CliContext& context, const CheckOutcome& outcome) {
  const v1::CheckBudgetResponse& r = outcome.response;
  context.out << "decision: " << DecisionName(r.decision());
  if (!outcome.checked) {
    context.out << " (NOT CHECKED: " << outcome.unchecked_reason.message() << ")\n";
    return;
  }
  if (r.decision() != v1::DECISION_ALLOW && !r.deciding_cap_id().empty()) {
    context.out << " (deciding tier: " << ScopeName(r.deciding_scope()) << ", cap "
                << r.deciding_cap_id() << ")";
  }
  context.out << "\n";
  // How fresh the other replicas' spend behind the answer is (docs/BUDGETS.md, "When the
  // database is away").
  if (r.counters_as_of_unix_millis() == 0) {
    context.out << "counters: never read from the database";
  } else {
    context.out << "counters: as of "
                << absl::FormatTime("%Y-%m-%d %H:%M:%E3SZ",
                                    absl::FromUnixMillis(r.counters_as_of_unix_millis()),
                                    absl::UTCTimeZone())
                << " (" << absl::StrFormat("%.1f", r.counters_age_millis() / 1000.0) << " s old)";
  }
  context.out << (r.stale() ? ", STALE: each cap's stale policy applied" : "") << "\n";
  if (!r.reservation_id().empty()) context.out << "reservation: " << r.reservation_id() << "\n";
  if (r.caps().empty()) {
    context.out << "no cap matches these tags\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::CapStatus& s : r.caps()) {
    rows.push_back({s.cap_id(), ScopeName(s.scope()), s.key(), PeriodName(s.period()),
                    Dollars(s.limit_nano_usd()), Dollars(s.spent_nano_usd()),
                    Dollars(s.reserved_nano_usd()), Dollars(s.acknowledged_headroom_nano_usd()),
                    Dollars(s.remaining_nano_usd()), Dollars(s.burn_rate_nano_usd_per_hour()),
                    s.has_projected_exhaustion_unix_seconds()
                        ? UnixSecondsText(s.projected_exhaustion_unix_seconds())
                        : "-",
                    UnixSecondsText(s.period_end_unix_seconds()), s.owner(),
                    DecisionName(s.decision()) + (s.shadow() ? " (shadow)" : "") +
                        (s.stale_policy_applied() ? " (stale policy)" : "")});
  }
  PrintTable(context.out,
             {"CAP", "SCOPE", "KEY", "PERIOD", "LIMIT", "SPENT", "RESERVED", "ACKED", "REMAINING",
              "BURN/H", "EXHAUSTED AT", "PERIOD END", "OWNER", "DECISION"},
             rows, {4, 5, 6, 7, 8, 9});
}

}  // namespace

int RunCheck(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1,
                                     {"feature", "team", "tenant", "workload-class", "env", "run",
                                      "estimate-usd", "step", "on-unavailable", "timeout"},
                                     {"reserve", "json"});
  if (!a.ok()) return Usage(context, "check", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "check",
                 absl::InvalidArgumentError("check takes no positional arguments"));
  }
  v1::CheckBudgetRequest request;
  v1::Tags* tags = request.mutable_tags();
  tags->set_feature(a->Get("feature"));
  tags->set_team(a->Get("team"));
  tags->set_tenant(a->Get("tenant"));
  tags->set_parent_run_id(a->Get("run"));
  if (a->Has("workload-class")) {
    absl::StatusOr<v1::WorkloadClass> wc = ParseWorkloadClassName(a->Get("workload-class"));
    if (!wc.ok()) return Usage(context, "check", wc.status());
    tags->set_workload_class(*wc);
  }
  absl::StatusOr<v1::Environment> env = ParseEnvironmentName(a->Get("env", "production"));
  if (!env.ok()) return Usage(context, "check", env.status());
  tags->set_environment(*env);
  if (!a->Has("estimate-usd")) {
    return Usage(context, "check", absl::InvalidArgumentError("--estimate-usd is required"));
  }
  absl::StatusOr<int64_t> estimate = ParseDollars(a->Get("estimate-usd"));
  if (!estimate.ok()) {
    return Usage(
        context, "check",
        absl::InvalidArgumentError(absl::StrCat("--estimate-usd: ", estimate.status().message())));
  }
  request.set_estimated_cost_nano_usd(*estimate);
  request.set_reserve(a->On("reserve"));
  request.set_step_id(a->Get("step"));
  if (request.reserve() && request.step_id().empty()) {
    return Usage(context, "check", absl::InvalidArgumentError("--reserve needs --step STEP_ID"));
  }

  BudgetClientOptions options;
  const std::string on_unavailable = a->Get("on-unavailable", "closed");
  if (on_unavailable == "open") {
    options.on_unavailable = OnUnavailable::kFailOpen;
  } else if (on_unavailable != "closed") {
    return Usage(context, "check",
                 absl::InvalidArgumentError("--on-unavailable must be closed or open"));
  }
  if (a->Has("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseExpiresIn(a->Get("timeout"));
    if (!timeout.ok()) return Usage(context, "check", timeout.status());
    options.check_timeout = *timeout;
  }
  BudgetClient client(MakeCollectorChannel(context.target), options);
  absl::StatusOr<CheckOutcome> outcome = client.Check(request);
  if (!outcome.ok()) return Fail(context, "check", outcome.status());
  if (a->On("json")) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(outcome->response, &json, print);
    context.out << json << "\n";
  } else {
    PrintCheck(context, *outcome);
  }
  if (!outcome->checked) {
    context.err << "stepledger budget check: the Budget service is unreachable ("
                << CodeName(outcome->unchecked_reason.code()) << "); failing "
                << (options.on_unavailable == OnUnavailable::kFailOpen ? "open: ALLOW"
                                                                       : "closed: REQUIRE_ACK")
                << " without checking any cap\n";
    return options.on_unavailable == OnUnavailable::kFailOpen ? kExitOk : kExitTransport;
  }
  return outcome->decision() == v1::DECISION_REQUIRE_ACK ? kExitRejected : kExitOk;
}

int RunAck(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {"by", "reason", "extra-usd", "expires-in"}, {});
  if (!a.ok()) return Usage(context, "ack", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() != 1) {
    return Usage(context, "ack", absl::InvalidArgumentError("expected exactly one CAP_ID"));
  }
  for (const char* required : {"by", "reason", "extra-usd", "expires-in"}) {
    if (a->Get(required).empty()) {
      return Usage(context, "ack",
                   absl::InvalidArgumentError(absl::StrCat("--", required, " is required")));
    }
  }
  absl::StatusOr<int64_t> extra = ParseDollars(a->Get("extra-usd"));
  if (!extra.ok()) {
    return Usage(
        context, "ack",
        absl::InvalidArgumentError(absl::StrCat("--extra-usd: ", extra.status().message())));
  }
  absl::StatusOr<absl::Duration> expires_in = ParseExpiresIn(a->Get("expires-in"));
  if (!expires_in.ok()) {
    return Usage(
        context, "ack",
        absl::InvalidArgumentError(absl::StrCat("--expires-in: ", expires_in.status().message())));
  }
  v1::AcknowledgeRequest request;
  request.set_cap_id(a->positional.front());
  request.set_principal(a->Get("by"));
  request.set_reason(a->Get("reason"));
  request.set_extra_headroom_nano_usd(*extra);
  const absl::Time expires = absl::Now() + *expires_in;
  request.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(expires));
  absl::StatusOr<v1::Acknowledgement> ack = MakeClient(context).Acknowledge(request);
  if (!ack.ok()) return Fail(context, "ack", ack.status());
  context.out << "acknowledged " << ack->cap_id() << ": " << ack->id() << ", extra "
              << Dollars(ack->extra_headroom_nano_usd()) << " until " << TimeText(ack->expires_at())
              << ", by " << ack->principal() << " (\"" << ack->reason() << "\")\n";
  return kExitOk;
}

int RunAcks(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {}, {"json"});
  if (!a.ok()) return Usage(context, "acks", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() > 1) {
    return Usage(context, "acks", absl::InvalidArgumentError("expected at most one CAP_ID"));
  }
  const std::string cap_id = a->positional.empty() ? "" : a->positional.front();
  absl::StatusOr<std::vector<v1::Acknowledgement>> acks =
      MakeClient(context).ListAcknowledgements(cap_id);
  if (!acks.ok()) return Fail(context, "acks", acks.status());
  if (a->On("json")) {
    v1::ListAcknowledgementsResponse response;
    for (const auto& ack : *acks) *response.add_acknowledgements() = ack;
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response, &json, print);
    context.out << json << "\n";
    return kExitOk;
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<std::vector<std::string>> rows;
  for (const auto& ack : *acks) {
    const bool active = ack.expires_at().seconds() > now;
    rows.push_back({ack.id(), ack.cap_id(), ack.principal(), Dollars(ack.extra_headroom_nano_usd()),
                    Dollars(ack.consumed_nano_usd()), TimeText(ack.created_at()),
                    TimeText(ack.expires_at()), active ? "active" : "expired", ack.reason()});
  }
  PrintTable(context.out,
             {"ID", "CAP", "BY", "EXTRA", "CONSUMED", "CREATED", "EXPIRES", "STATE", "REASON"},
             rows, {3, 4});
  context.out << acks->size() << (acks->size() == 1 ? " acknowledgement\n" : " acknowledgements\n");
  return kExitOk;
}

namespace {

void PrintWhatIfRows(const CliContext& context, const std::string& title,
                     const google::protobuf::RepeatedPtrField<v1::WhatIfRow>& rows_in) {
  context.out << "\n" << title << "\n";
  if (rows_in.empty()) {
    context.out << "  (none flagged)\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::WhatIfRow& row : rows_in) {
    rows.push_back({"  " + row.name(), Count(row.alert().steps()), Count(row.alert().runs()),
                    Dollars(row.alert().cost_nano_usd()), Count(row.require_ack().steps()),
                    Count(row.require_ack().runs()), Dollars(row.require_ack().cost_nano_usd())});
  }
  PrintTable(context.out,
             {"", "ALERT STEPS", "RUNS", "DOLLARS", "REQUIRE_ACK STEPS", "RUNS", "DOLLARS"}, rows,
             {1, 2, 3, 4, 5, 6});
}

}  // namespace

int RunWhatIf(const CliContext& context, const std::vector<std::string>& args) {
  std::set<std::string> value_flags = kCapValueFlags;
  value_flags.insert({"cap-file", "days"});
  absl::StatusOr<Args> a = ParseArgs(args, 1, value_flags, {"shadow"});
  if (!a.ok()) return Usage(context, "whatif", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "whatif",
                 absl::InvalidArgumentError("whatif takes no positional arguments"));
  }
  int days = 30;
  if (a->Has("days") && (!absl::SimpleAtoi(a->Get("days"), &days) || days < 1 || days > 400)) {
    return Usage(context, "whatif", absl::InvalidArgumentError("--days must be 1..400"));
  }
  v1::WhatIfBudgetRequest request;
  request.set_days(days);
  if (a->Has("cap-file")) {
    for (const auto& [name, value] : a->values) {
      if (kCapValueFlags.count(name) > 0) {
        return Usage(
            context, "whatif",
            absl::InvalidArgumentError(absl::StrCat("--cap-file and --", name, " are exclusive")));
      }
    }
    absl::StatusOr<std::string> text = ReadInput(context, a->Get("cap-file"));
    if (!text.ok()) {
      context.err << "stepledger budget whatif: " << text.status().message() << "\n";
      return kExitNoInput;
    }
    absl::StatusOr<std::vector<Cap>> caps = ParseBudgetFile(*text);
    if (!caps.ok()) {
      context.err << "stepledger budget whatif: " << a->Get("cap-file") << ": "
                  << caps.status().message() << "\n";
      return kExitDataError;
    }
    for (Cap& cap : *caps) *request.add_caps() = std::move(cap);
  } else {
    absl::StatusOr<Cap> cap = CapFromArgs(*a, /*proposed=*/true);
    if (!cap.ok()) return Usage(context, "whatif", cap.status());
    *request.add_caps() = *std::move(cap);
  }
  // A long replay (a year of history) is an operation, polled, with progress on stderr.
  const AdminClient client(MakeCollectorChannel(context.target));
  absl::StatusOr<v1::Operation> done =
      WaitShowingProgress(context, client, "budget whatif", client.StartWhatIf(request));
  if (!done.ok()) return Fail(context, "whatif", done.status());
  const v1::WhatIfBudgetResponse* report = &done->what_if();

  auto minute = [](const google::protobuf::Timestamp& ts) {
    return absl::FormatTime("%Y-%m-%d %H:%MZ", absl::FromUnixSeconds(ts.seconds()),
                            absl::UTCTimeZone());
  };
  context.out << "what-if: " << report->caps()
              << (report->caps() == 1 ? " proposed cap" : " proposed caps")
              << " against the ledger from " << minute(report->since()) << " to "
              << minute(report->until()) << " (" << report->days() << " days)\n";
  context.out << "replayed: " << Count(report->replayed().steps()) << " steps, "
              << Count(report->replayed().runs()) << " runs, "
              << Dollars(report->replayed().cost_nano_usd()) << "\n";
  context.out << "would have hit ALERT: " << Count(report->total().alert().steps()) << " steps, "
              << Count(report->total().alert().runs()) << " runs, "
              << Dollars(report->total().alert().cost_nano_usd()) << "\n";
  context.out << "would have hit REQUIRE_ACK: " << Count(report->total().require_ack().steps())
              << " steps, " << Count(report->total().require_ack().runs()) << " runs, "
              << Dollars(report->total().require_ack().cost_nano_usd()) << "\n";
  context.out << "(a step counts once, under its strongest decision; counters start at zero at "
                 "the start of the window)\n";
  PrintWhatIfRows(context, "by team", report->by_team());
  PrintWhatIfRows(context, "by feature", report->by_feature());
  PrintWhatIfRows(context, "by cap (each cap's own decision)", report->by_cap());
  return kExitOk;
}

}  // namespace stepledger::client::budget_cli
