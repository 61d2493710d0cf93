// Per-event authorization of written steps (docs/SECURITY.md, "Scopes"): an event whose tags
// are outside the writing credential's scopes is rejected with a reason naming the tag and
// quarantined like any other rejected event (its reported cost still counts as unattributed
// spend); the rest of the batch is stored as usual.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_SCOPE_FILTER_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_SCOPE_FILTER_H_

#include <vector>

#include "server/domain/auth/scopes.h"
#include "server/domain/ingest/ingest_service.h"

namespace stepledger::domain::ingest {

// Marks each event of `events` outside `scopes` (and not already rejected at conversion) as
// rejected with the scope's reason. Returns how many it marked.
size_t RejectOutOfScope(const auth::Scopes& scopes, std::vector<ReceivedEvent>& events);

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_SCOPE_FILTER_H_
