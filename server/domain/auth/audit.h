// Who made a change to governance data, as audit rows record it (docs/SECURITY.md, "Audit"):
// the identity of the credential the change came with (Principal::Identity(), never a name the
// caller typed), or "collector:<what>" for a change the collector makes on its own (a catalog
// file loaded at start). What the caller typed (a --reason) is kept only as a note beside it.
// Plain values; copy freely.
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_AUDIT_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_AUDIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/domain/auth/principal.h"

namespace stepledger::domain::auth {

struct AuditActor {
  std::string identity;  // Never empty: the audit table refuses a row without one.
  std::string note;      // Free text from the caller; "" when none.
  // Anything else the caller typed that is kept only for the record (a cap's typed
  // signed_off_by, which never signs a cap off): the budget audit row's reason.
  std::string remark;

  // The audited name: the identity, with the note when there is one.
  std::string Audited() const {
    if (note.empty() || note == identity) return identity;
    return absl::StrCat(identity, " (note: ", note, ")");
  }

  static AuditActor Of(const Principal& caller, std::string note) {
    return AuditActor{caller.Identity(), std::move(note), ""};
  }
  static AuditActor Collector(const std::string& what) {
    return AuditActor{absl::StrCat("collector:", what), "", ""};
  }
};

// One admin_audit row (migration 0018).
struct AdminAuditRecord {
  int64_t id = 0;
  std::string action;  // reprice, import_invoice, load_price_catalog
  AuditActor actor;
  std::string detail_json;  // What changed, as a JSON object.
  absl::Time changed_at;
};

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_AUDIT_H_
