// StepRecord: one stored step as run-tree assembly needs it (a projection of a ledger row).
//
// Storage reads these back from the ledger (charged tags, attribution status and drift as the
// write path's SQL stored them). Keeping the tree's input this narrow lets GetRun read only the
// columns it shows.
//
// Thread safety: plain value.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_STEP_RECORD_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_STEP_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

struct StepRecord {
  std::string event_id;  // Idempotency key; unique within a run once stored.
  std::string step_id;
  std::string parent_step_id;  // Empty: the run's root.
  StepKind kind = StepKind::kOther;
  std::string name;
  std::string model;
  std::string provider;
  Usage usage;
  std::optional<NanoUsd> cost_nano_usd;  // This step only. nullopt: unpriced (not zero).
  std::string operation_id;              // Attempts of one logical operation share it.
  int32_t attempt = 1;                   // 1 = first try.
  std::string tool_name;
  std::string tool_owner_team;  // Shown what it performed; does not pay.
  std::string status;
  AttributionStatus attribution_status = AttributionStatus::kComplete;
  bool tag_drift = false;
  Tags own_tags;      // As carried by the event; own_tags.parent_run_id is the run.
  Tags charged_tags;  // Who pays (docs/API.md, "Tag drift").
  std::optional<absl::Time> started_at;
};

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_STEP_RECORD_H_
