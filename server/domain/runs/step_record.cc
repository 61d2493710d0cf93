#include "server/domain/runs/step_record.h"

namespace stepledger::domain::runs {

StepRecord MakeStepRecord(const Step& step, const Attribution& attribution) {
  StepRecord r;
  r.event_id = step.event_id;
  r.step_id = step.step_id;
  r.parent_step_id = step.parent_step_id;
  r.kind = step.kind;
  r.name = step.name;
  r.model = step.model;
  r.provider = step.provider;
  r.usage = step.usage;
  r.cost_nano_usd = step.cost_nano_usd;
  r.operation_id = step.operation_id;
  r.attempt = step.attempt;
  r.tool_name = step.tool_name;
  r.tool_owner_team = step.tool_owner_team;
  r.status = step.status;
  r.attribution_status = attribution.status;
  r.tag_drift = attribution.tag_drift();
  r.own_tags = step.tags;
  r.charged_tags = attribution.charged;
  r.started_at = step.started_at;
  return r;
}

}  // namespace stepledger::domain::runs
