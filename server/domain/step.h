// Domain model of one agent step, free of protobuf and SQL.
//
// A Step is what the collector knows about one StepEvent after conversion from the wire.
// Money is int64 nano-USD (1e-9 USD) everywhere; never floating point.
//
// Thread safety: plain values; copy freely.
#ifndef STEPLEDGER_SERVER_DOMAIN_STEP_H_
#define STEPLEDGER_SERVER_DOMAIN_STEP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace stepledger::domain {

using NanoUsd = int64_t;
inline constexpr NanoUsd kNanoUsdPerUsd = 1'000'000'000;

enum class WorkloadClass { kUnspecified, kInteractive, kBatch, kEval, kBackground };
enum class Environment { kUnspecified, kProduction, kStaging, kEval };
enum class StepKind { kOther, kModelCall, kToolCall, kRetrieval, kEmbedding, kRerank };

// How the step's charged tags were obtained. Stored with every ledger row so unattributed
// spend is measured, not guessed.
enum class AttributionStatus {
  kComplete,     // The step carried all its tags.
  kInherited,    // Tags came from the run's root step.
  kPending,      // Waiting for the run's root to arrive (stored, acked, not yet charged).
  kDefaulted,    // Outside production: missing tags went to the "(unattributed)" bucket.
  kQuarantined,  // Rejected; kept in the quarantine table, counted as unattributed.
};

// The label used for missing tags outside production.
inline constexpr std::string_view kUnattributed = "(unattributed)";

std::string_view ToString(WorkloadClass v);
std::string_view ToString(Environment v);
std::string_view ToString(StepKind v);
std::string_view ToString(AttributionStatus v);

// The workload class a label names (the inverse of ToString); std::nullopt for any other text,
// "(unattributed)" included.
std::optional<WorkloadClass> WorkloadClassFromString(std::string_view label);
// The environment a label names (the inverse of ToString); std::nullopt for any other text.
std::optional<Environment> EnvironmentFromString(std::string_view label);

struct Tags {
  std::string feature;
  std::string team;
  WorkloadClass workload_class = WorkloadClass::kUnspecified;
  std::string tenant;
  Environment environment = Environment::kUnspecified;
  std::string parent_run_id;
};

// Disjoint token buckets; std::nullopt means "unknown", never zero.
struct Usage {
  std::optional<int64_t> input_uncached_tokens;
  std::optional<int64_t> cache_read_tokens;
  std::optional<int64_t> cache_write_tokens;
  std::optional<int64_t> output_tokens;
  std::optional<int64_t> reasoning_tokens;
};

struct Step {
  std::string event_id;
  Tags tags;
  std::string step_id;
  std::string parent_step_id;
  StepKind kind = StepKind::kOther;
  std::string name;
  std::string provider;
  std::string model;
  Usage usage;
  std::optional<NanoUsd> cost_nano_usd;
  std::string tool_name;
  std::string tool_owner_team;
  std::string status;
  std::string operation_id;
  int32_t attempt = 1;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> ended_at;
  std::map<std::string, std::string> attributes;
  std::string service_tier;           // "" = standard; see steps.proto
  std::optional<int64_t> tool_units;  // units consumed by a per-unit priced tool
};

}  // namespace stepledger::domain

#endif  // STEPLEDGER_SERVER_DOMAIN_STEP_H_
