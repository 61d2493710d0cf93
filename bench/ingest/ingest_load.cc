// ingest_load: streams N realistic StepEvents to a collector over S streams (batches of B) and
// prints the acked events/s end to end. Acked means committed: the collector acks a batch only
// after its transaction committed.
//
//   ingest_load TARGET [EVENTS=500000] [STREAMS=8] [BATCH=500]
//
// Prints one line "acked_events=N seconds=S events_per_second=R" and exits non-zero if any
// event was not acked or was rejected.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"

namespace {

using stepledger::v1::StepEvent;

// Realistic sizes: ids like gateways generate, 6 tags from realistic cardinalities, usage,
// cost, a few attributes (~450 bytes serialized).
StepEvent MakeEvent(int i, std::mt19937_64& rng, int64_t now) {
  static const char* kFeatures[] = {"inbox-triage",   "doc-qa",         "code-review",
                                    "meeting-notes",  "support-agent",  "sales-research",
                                    "search-summary", "contract-review"};
  static const char* kModels[] = {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514",
                                  "claude-3-5-haiku-20241022", "o3-mini"};
  static const char* kKinds[] = {"planner", "retrieve", "rerank", "tool:search", "synthesis"};
  StepEvent e;
  e.set_event_id(absl::StrCat("bench-", now, "-", i, "-", rng() % 1000000));
  auto* t = e.mutable_tags();
  // A run is one user task: every step of it carries the same feature, team and tenant (as
  // real agents do), so the collector's drift re-charging is not exercised on every step.
  const uint64_t run = static_cast<uint64_t>(i / 12);
  const int f = static_cast<int>((run * 2654435761u) % 8);
  t->set_feature(kFeatures[f]);
  t->set_team(absl::StrCat("team-", f / 2));
  t->set_workload_class(stepledger::v1::WORKLOAD_CLASS_INTERACTIVE);
  t->set_tenant(absl::StrCat("tenant-", (run * 40503u) % 7000));
  t->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
  t->set_parent_run_id(absl::StrCat("run-", now, "-", i / 12));
  e.set_step_id(absl::StrCat("step-", i % 12));
  if (i % 12 != 0) e.set_parent_step_id(absl::StrCat("step-", (i % 12) / 3));
  e.set_kind(stepledger::v1::STEP_KIND_MODEL_CALL);
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

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ingest_load TARGET [EVENTS] [STREAMS] [BATCH]\n");
    return 64;
  }
  const std::string target = argv[1];
  const int events_n = argc > 2 ? std::atoi(argv[2]) : 500000;
  const int streams = argc > 3 ? std::atoi(argv[3]) : 8;
  const int batch = argc > 4 ? std::atoi(argv[4]) : 500;

  std::mt19937_64 rng(1234);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<StepEvent> events;
  events.reserve(events_n);
  for (int i = 0; i < events_n; ++i) events.push_back(MakeEvent(i, rng, now));

  stepledger::client::SendOptions options;
  options.streams = streams;
  options.stream.batch_size = batch;
  options.stream.max_in_flight = 8;
  const absl::Time start = absl::Now();
  stepledger::client::StreamResult result = stepledger::client::SendAll(target, events, options);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t acked = result.totals.accepted + result.totals.duplicates;
  std::printf("acked_events=%lld seconds=%.2f events_per_second=%.0f streams=%d batch=%d\n",
              static_cast<long long>(acked), seconds, acked / seconds, streams, batch);
  if (!result.all_acked() || result.totals.rejected != 0) {
    std::fprintf(stderr, "ingest_load: not everything acked: %s, %zu unacked, %lld rejected\n",
                 result.status.ToString().c_str(), result.unacked_events.size(),
                 static_cast<long long>(result.totals.rejected));
    return 1;
  }
  return 0;
}
