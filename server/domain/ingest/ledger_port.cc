#include "server/domain/ingest/ledger_port.h"

namespace stepledger::domain::ingest {

std::string_view ToString(CostSource source) {
  switch (source) {
    case CostSource::kReported:
      return "reported";
    case CostSource::kComputed:
      return "computed";
    case CostSource::kUnpriced:
      break;
  }
  return "unpriced";
}

size_t ApproximateBytes(const IngestItem& item) {
  const Step& s = item.step;
  size_t bytes = sizeof(IngestItem) + item.raw_json.size() + item.digest.size() +
                 item.price_version.size() + item.unpriced_reason.size();
  for (const std::string* text :
       {&s.event_id, &s.tags.feature, &s.tags.team, &s.tags.tenant, &s.tags.parent_run_id,
        &s.step_id, &s.parent_step_id, &s.name, &s.provider, &s.model, &s.tool_name,
        &s.tool_owner_team, &s.status, &s.operation_id, &s.service_tier}) {
    bytes += text->size();
  }
  // Charged tags are a second copy of the tags.
  bytes += item.charged.feature.size() + item.charged.team.size() + item.charged.tenant.size() +
           item.charged.parent_run_id.size();
  for (const auto& [key, value] : s.attributes) bytes += 64 + key.size() + value.size();
  return bytes;
}

}  // namespace stepledger::domain::ingest
