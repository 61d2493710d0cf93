#include "bench/ingest/bench_events.h"

#include <random>

#include "absl/strings/str_cat.h"

namespace stepledger::bench {
namespace {

v1::StepEvent MakeEvent(int i, std::mt19937_64& rng, int64_t now) {
  static const char* kFeatures[] = {"inbox-triage",   "doc-qa",         "code-review",
                                    "meeting-notes",  "support-agent",  "sales-research",
                                    "search-summary", "contract-review"};
  static const char* kModels[] = {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514",
                                  "claude-3-5-haiku-20241022", "o3-mini"};
  static const char* kKinds[] = {"planner", "retrieve", "rerank", "tool:search", "synthesis"};
  v1::StepEvent e;
  e.set_event_id(absl::StrCat("bench-", now, "-", i, "-", rng() % 1000000));
  auto* t = e.mutable_tags();
  // A run is one user task: every step of it carries the same feature, team and tenant (as
  // real agents do), so the collector's drift re-charging is not exercised on every step.
  const uint64_t run = static_cast<uint64_t>(i / 12);
  const int f = static_cast<int>((run * 2654435761u) % 8);
  t->set_feature(kFeatures[f]);
  t->set_team(absl::StrCat("team-", f / 2));
  t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  t->set_tenant(absl::StrCat("tenant-", (run * 40503u) % 7000));
  t->set_environment(v1::ENVIRONMENT_PRODUCTION);
  t->set_parent_run_id(absl::StrCat("run-", now, "-", i / 12));
  e.set_step_id(absl::StrCat("step-", i % 12));
  if (i % 12 != 0) e.set_parent_step_id(absl::StrCat("step-", (i % 12) / 3));
  e.set_kind(v1::STEP_KIND_MODEL_CALL);
  e.set_name(kKinds[rng() % 5]);
  e.set_provider(f % 2 == 0 ? "openai" : "anthropic");
  e.set_model(kModels[rng() % 5]);
  auto* u = e.mutable_usage();
  u->set_input_uncached_tokens(200 + rng() % 4000);
  u->set_cache_read_tokens(rng() % 2000);
  u->set_output_tokens(20 + rng() % 800);
  e.set_cost_nano_usd(10000 + rng() % 5000000);
  e.set_status("ok");
  e.set_operation_id(absl::StrCat("op-", i));
  e.set_attempt(1);
  e.mutable_started_at()->set_seconds(now - static_cast<int64_t>(rng() % 3600));
  e.mutable_ended_at()->set_seconds(e.started_at().seconds() + 3);
  (*e.mutable_attributes())["gen_ai.request.model"] = e.model();
  (*e.mutable_attributes())["gateway"] = "litellm-proxy-7";
  return e;
}

}  // namespace

std::vector<v1::StepEvent> MakeBenchEvents(int count, int64_t now) {
  std::mt19937_64 rng(1234);
  std::vector<v1::StepEvent> events;
  events.reserve(count);
  for (int i = 0; i < count; ++i) events.push_back(MakeEvent(i, rng, now));
  return events;
}

}  // namespace stepledger::bench
