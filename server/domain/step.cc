#include "server/domain/step.h"

namespace stepledger::domain {

std::string_view ToString(WorkloadClass v) {
  switch (v) {
    case WorkloadClass::kInteractive:
      return "interactive";
    case WorkloadClass::kBatch:
      return "batch";
    case WorkloadClass::kEval:
      return "eval";
    case WorkloadClass::kBackground:
      return "background";
    case WorkloadClass::kUnspecified:
      break;
  }
  return kUnattributed;  // only stored outside production, where missing tags are defaulted
}

std::optional<WorkloadClass> WorkloadClassFromString(std::string_view label) {
  for (WorkloadClass w : {WorkloadClass::kInteractive, WorkloadClass::kBatch, WorkloadClass::kEval,
                          WorkloadClass::kBackground}) {
    if (label == ToString(w)) return w;
  }
  return std::nullopt;
}

std::optional<Environment> EnvironmentFromString(std::string_view label) {
  for (Environment e : {Environment::kProduction, Environment::kStaging, Environment::kEval}) {
    if (label == ToString(e)) return e;
  }
  return std::nullopt;
}

std::string_view ToString(Environment v) {
  switch (v) {
    case Environment::kProduction:
      return "production";
    case Environment::kStaging:
      return "staging";
    case Environment::kEval:
      return "eval";
    case Environment::kUnspecified:
      break;
  }
  return "";
}

std::string_view ToString(StepKind v) {
  switch (v) {
    case StepKind::kModelCall:
      return "model_call";
    case StepKind::kToolCall:
      return "tool_call";
    case StepKind::kRetrieval:
      return "retrieval";
    case StepKind::kEmbedding:
      return "embedding";
    case StepKind::kRerank:
      return "rerank";
    case StepKind::kOther:
      break;
  }
  return "other";
}

std::string_view ToString(AttributionStatus v) {
  switch (v) {
    case AttributionStatus::kComplete:
      return "complete";
    case AttributionStatus::kInherited:
      return "inherited";
    case AttributionStatus::kPending:
      return "pending";
    case AttributionStatus::kDefaulted:
      return "defaulted";
    case AttributionStatus::kQuarantined:
      return "quarantined";
  }
  return "quarantined";
}

}  // namespace stepledger::domain
