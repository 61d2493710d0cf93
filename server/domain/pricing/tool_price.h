// Price of one tool or retrieval service: a fixed amount per call plus an amount per 1000
// units of whatever the tool meters (documents reranked, read units, sandbox seconds, ...).
//
// Thread safety: plain values.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_TOOL_PRICE_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_TOOL_PRICE_H_

#include <string>

#include "server/domain/pricing/money.h"

namespace stepledger::domain::pricing {

struct ToolPrice {
  std::string name;           // matched exactly against a step's tool_name
  FemtoUsd per_call = 0;      // charged once per step
  FemtoUsd per_1k_units = 0;  // charged per 1000 units; 0 = units are not billed
  std::string unit_name;      // what a unit is, e.g. "documents"; empty when not billed
};

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_TOOL_PRICE_H_
