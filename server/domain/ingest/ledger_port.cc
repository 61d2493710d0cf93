#include "server/domain/ingest/ledger_port.h"

namespace stepledger::domain::ingest {

std::string_view ToString(CostSource source) {
  switch (source) {
    case CostSource::kReported: return "reported";
    case CostSource::kComputed: return "computed";
    case CostSource::kUnpriced: break;
  }
  return "unpriced";
}

}  // namespace stepledger::domain::ingest
