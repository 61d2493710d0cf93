// JSON renderings of domain steps for jsonb columns (attributes, quarantine rows).
#ifndef STEPLEDGER_SERVER_STORAGE_STEP_JSON_H_
#define STEPLEDGER_SERVER_STORAGE_STEP_JSON_H_

#include <map>
#include <string>

#include "server/domain/step.h"

namespace stepledger::storage {

std::string AttributesToJson(const std::map<std::string, std::string>& attributes);
std::string StepToJson(const domain::Step& step);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_STEP_JSON_H_
