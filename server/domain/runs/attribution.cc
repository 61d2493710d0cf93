#include "server/domain/runs/attribution.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stepledger::domain::runs {
namespace {

bool IsSet(const Tags& tags, TagField field) {
  switch (field) {
    case TagField::kFeature:
      return !tags.feature.empty();
    case TagField::kTeam:
      return !tags.team.empty();
    case TagField::kTenant:
      return !tags.tenant.empty();
    case TagField::kWorkloadClass:
      return tags.workload_class != WorkloadClass::kUnspecified;
  }
  return false;
}

std::string JoinFields(const std::vector<TagField>& fields) {
  std::string out;
  for (TagField f : fields) {
    if (!out.empty()) out += ",";
    out += std::string(ToString(f));
  }
  return out;
}

}  // namespace

std::string_view ToString(TagField field) {
  switch (field) {
    case TagField::kFeature:
      return "feature";
    case TagField::kTeam:
      return "team";
    case TagField::kTenant:
      return "tenant";
    case TagField::kWorkloadClass:
      return "workload_class";
  }
  return "";
}

std::vector<TagField> MissingInheritableTags(const Tags& tags) {
  std::vector<TagField> missing;
  for (TagField f :
       {TagField::kFeature, TagField::kTeam, TagField::kTenant, TagField::kWorkloadClass}) {
    if (!IsSet(tags, f)) missing.push_back(f);
  }
  return missing;
}

absl::StatusOr<Attribution> ResolveAttribution(const Step& step,
                                               const std::optional<Tags>& root_tags) {
  Attribution out;
  out.charged = step.tags;
  out.missing = MissingInheritableTags(step.tags);

  if (step.parent_step_id.empty()) {
    if (!out.missing.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("root step '", step.step_id, "' is missing tag(s) ", JoinFields(out.missing),
                       "; a root has nothing to inherit from"));
    }
    out.root_known = true;  // It is the root: nothing to drift from.
    return out;
  }
  if (step.tags.parent_run_id.empty()) {
    if (!out.missing.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("step '", step.step_id, "' is missing tag(s) ", JoinFields(out.missing),
                       " and has no parent_run_id to inherit them from"));
    }
    return out;  // Not part of a run: its own tags are all there is.
  }
  if (!root_tags.has_value()) {
    out.status = out.missing.empty() ? AttributionStatus::kComplete : AttributionStatus::kPending;
    return out;
  }

  const Tags& root = *root_tags;
  if (root.parent_run_id != step.tags.parent_run_id) {
    return absl::InvalidArgumentError(absl::StrCat("root tags belong to run '", root.parent_run_id,
                                                   "', step '", step.step_id, "' to run '",
                                                   step.tags.parent_run_id, "'"));
  }
  if (std::vector<TagField> root_missing = MissingInheritableTags(root); !root_missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("root tags of run '", root.parent_run_id,
                                                   "' lack ", JoinFields(root_missing)));
  }
  out.root_known = true;

  // Drift: a fully tagged step whose own value disagrees with the root's. A tool step tagged
  // with its owner's team is no exception. workload_class is never drift.
  if (out.missing.empty()) {
    if (step.tags.feature != root.feature) out.drift.push_back(TagField::kFeature);
    if (step.tags.team != root.team) out.drift.push_back(TagField::kTeam);
    if (step.tags.tenant != root.tenant) out.drift.push_back(TagField::kTenant);
  }

  // The calling feature pays, in the run's class of work: charged tags are the root's, always.
  out.charged.feature = root.feature;
  out.charged.team = root.team;
  out.charged.tenant = root.tenant;
  out.charged.workload_class = root.workload_class;
  out.inherited = out.missing;
  out.status = out.missing.empty() ? AttributionStatus::kComplete : AttributionStatus::kInherited;
  return out;
}

}  // namespace stepledger::domain::runs
