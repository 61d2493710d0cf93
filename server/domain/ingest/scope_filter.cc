#include "server/domain/ingest/scope_filter.h"

namespace stepledger::domain::ingest {

size_t RejectOutOfScope(const auth::Scopes& scopes, std::vector<ReceivedEvent>& events) {
  if (scopes.all()) return 0;
  size_t rejected = 0;
  for (ReceivedEvent& event : events) {
    if (event.conversion_error.has_value()) continue;
    if (std::optional<auth::ScopeViolation> v = scopes.Check(event.step.tags); v.has_value()) {
      event.conversion_error =
          FieldError{.field = std::move(v->field), .reason = std::move(v->reason)};
      ++rejected;
    }
  }
  return rejected;
}

}  // namespace stepledger::domain::ingest
