// Tag inheritance, tag drift and "who pays" for one step of a run (DESIGN.md, "Tree
// reassembly and who pays"; issue 3).
//
// Production attribution is SQL (storage/ledger_queries.h: kChargeToStoredRoots,
// kChargeToStagedRoots, kChargeStoredStepsToNewRoots). This is the rule written once more as
// plain C++ so a property test (tests/integration/attribution_oracle_test.cc) can check the
// SQL against it for every step of random runs; production never calls it.
//
// Rules, for a step S of run R whose root (the step with empty parent_step_id) carries tags T:
//  - S is a root: charged to its own tags (status complete). A root cannot inherit, so a root
//    missing any of feature/team/tenant/workload_class is an error for the caller to handle
//    (reject in production, default outside it).
//  - S carries parent_run_id + parent_step_id and lacks some of feature/team/tenant/
//    workload_class: with T known it inherits them (status inherited); with T unknown it is
//    pending (stored, acked, charged once the root arrives or moved to unattributed after the
//    wait: the write path does this in SQL, storage/run_upkeep.h).
//  - With T known, charged feature/team/tenant/workload_class are ALWAYS T's: the calling
//    feature pays, in the class of work the run was started as. A step that carries all four
//    tags and whose own feature, team or tenant disagrees with T's has tag drift in that field
//    (kept, counted, charged to T). A step that lacked a tag defers to T and is not checked.
//  - Tool steps keep tool_owner_team (the owner is shown what it performed) but are charged
//    to T's team like any step. A tool step tagged with team == tool_owner_team while T's team
//    differs IS drift: `team` names who called, tool_owner_team who owns the tool (issue 16).
//  - S fully tagged, T unknown: complete, charged to its own tags, root_known = false: drift
//    cannot be checked yet; the write path re-charges and re-checks it when the root arrives.
//
// Thread safety: pure functions over values.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_ATTRIBUTION_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_ATTRIBUTION_H_

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

// The tags a step may inherit from its run's root.
enum class TagField { kFeature, kTeam, kTenant, kWorkloadClass };
std::string_view ToString(TagField field);

struct Attribution {
  // Only kComplete, kInherited or kPending; defaulted and quarantined are the caller's call.
  AttributionStatus status = AttributionStatus::kComplete;
  Tags charged;                     // Who pays. Partial (own tags only) while pending.
  std::vector<TagField> missing;    // Fields the step itself lacked.
  std::vector<TagField> inherited;  // Subset of `missing` filled from the root.
  std::vector<TagField> drift;      // Fully tagged, own value different from the root's.
  bool root_known = false;          // False: drift was not (could not be) checked.

  bool tag_drift() const { return !drift.empty(); }
};

// Fields among feature/team/tenant/workload_class that `tags` leaves empty/unspecified.
std::vector<TagField> MissingInheritableTags(const Tags& tags);

// Resolves who pays for `step`, given its run root's tags when known.
//
// REQUIRES: when present, `root_tags` are the charged tags of the root of step.tags.
//   parent_run_id (their parent_run_id must match; InvalidArgument otherwise) and carry all of
//   feature/team/tenant/workload_class (InvalidArgument otherwise).
// Errors: InvalidArgument naming the field when the step lacks a tag and cannot inherit it
//   (it is a root, or it has no parent_run_id).
absl::StatusOr<Attribution> ResolveAttribution(const Step& step,
                                               const std::optional<Tags>& root_tags);

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_ATTRIBUTION_H_
