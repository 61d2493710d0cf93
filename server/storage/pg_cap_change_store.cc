#include "server/storage/pg_cap_change_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/storage/cap_change_queries.h"
#include "server/storage/cap_row.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {

using domain::budget::Actor;
using domain::budget::Cap;
using domain::budget::CapProposal;

namespace {

absl::Time FromEpoch(const pqxx::field& f) {
  return absl::FromUnixMicros(static_cast<int64_t>(f.as<double>() * 1e6));
}

// One cap at a time per id, for the rest of the transaction (see the header).
void LockCap(pqxx::work& txn, const std::string& cap_id) {
  txn.exec_params(queries::kLockCapChanges, cap_id);
}

// The cap's row under the row lock: the cap and its JSON (the audit's before), or nullopt.
struct LockedCap {
  Cap cap;
  std::string json;
};
absl::StatusOr<std::optional<LockedCap>> LockCapRow(pqxx::work& txn, const std::string& cap_id) {
  const pqxx::result r = txn.exec_params(queries::kLockCapRow, cap_id);
  if (r.empty()) return std::optional<LockedCap>();
  absl::StatusOr<Cap> cap = CapFromRow(r[0]);
  if (!cap.ok()) return cap.status();
  return std::optional<LockedCap>(LockedCap{*std::move(cap), r[0][14].as<std::string>()});
}

absl::Status MovedOn(const std::string& cap_id, int64_t expected, int64_t now) {
  return absl::AbortedError(absl::StrCat("cap ", cap_id, " changed while this change was made (",
                                         "revision ", now, ", expected ", expected, "); retry"));
}

// Writes `cap` as the cap's next revision by `author`, signed off by `signed_off_by` ('' =
// awaiting); returns the stored cap and its JSON.
std::pair<Cap, std::string> WriteRevision(pqxx::work& txn, const Cap& cap,
                                          const std::string& author,
                                          const std::string& signed_off_by) {
  const pqxx::row row = txn.exec_params1(
      queries::kWriteRevision, cap.id, std::string(domain::budget::ToString(cap.scope)), cap.key,
      std::string(domain::ToString(cap.environment)),
      std::string(domain::budget::ToString(cap.period)), cap.limit_nano_usd,
      std::string(domain::budget::ToString(cap.action)), cap.alert_threshold_bps, cap.owner,
      signed_off_by, cap.shadow, std::string(domain::budget::ToString(cap.stale_policy)), author);
  absl::StatusOr<Cap> stored = CapFromRow(row);
  // The row was written from a validated cap: it reads back.
  return {stored.ok() ? *std::move(stored) : cap, row[14].as<std::string>()};
}

void Audit(pqxx::work& txn, const std::string& cap_id, const char* action,
           const std::string& changed_by, const std::string* before, const std::string* after,
           const std::string* approved_by, const int64_t* proposal_id, const std::string* reason) {
  const std::string proposal = proposal_id ? absl::StrCat(*proposal_id) : "";
  txn.exec_params(queries::kAuditCapChange, cap_id, action, changed_by,
                  before ? before->c_str() : nullptr, after ? after->c_str() : nullptr,
                  approved_by ? approved_by->c_str() : nullptr,
                  proposal_id ? proposal.c_str() : nullptr,
                  reason && !reason->empty() ? reason->c_str() : nullptr);
}

absl::StatusOr<CapProposal> ProposalFromRow(const pqxx::row& row) {
  CapProposal p;
  p.id = row[0].as<int64_t>();
  p.cap_id = row[1].as<std::string>();
  p.base_revision = row[2].as<int64_t>();
  p.changes = row[3].as<std::string>();
  p.proposed_by = row[4].as<std::string>();
  p.proposed_note = row[5].as<std::string>();
  p.created_at = FromEpoch(row[6]);
  p.expires_at = FromEpoch(row[7]);
  p.state = row[8].as<std::string>();
  if (!row[9].as<bool>()) {
    absl::StatusOr<Cap> cap = CapFromRow(row, 10);
    if (!cap.ok()) return cap.status();
    p.cap = *std::move(cap);
  }
  return p;
}

}  // namespace

PgCapChangeStore::PgCapChangeStore(std::string database_url)
    : db_(std::move(database_url), "cap change store") {}
PgCapChangeStore::~PgCapChangeStore() = default;

absl::StatusOr<std::optional<Cap>> PgCapChangeStore::LoadCap(const std::string& cap_id) {
  return db_.Run("load cap", [&](PgConnection& pg) -> absl::StatusOr<std::optional<Cap>> {
    pqxx::read_transaction txn(pg);
    const pqxx::result r = txn.exec_params(queries::kLoadCapRow, cap_id);
    if (r.empty()) return std::optional<Cap>();
    absl::StatusOr<Cap> cap = CapFromRow(r[0]);
    if (!cap.ok()) return cap.status();
    return std::optional<Cap>(*std::move(cap));
  });
}

absl::StatusOr<std::optional<Cap>> PgCapChangeStore::ApplyChange(const std::string& cap_id,
                                                                 int64_t expected_revision,
                                                                 const std::optional<Cap>& after,
                                                                 const Actor& actor,
                                                                 const std::string& signed_off_by) {
  return db_.Run("change cap", [&](PgConnection& pg) -> absl::StatusOr<std::optional<Cap>> {
    pqxx::work txn(pg);
    LockCap(txn, cap_id);
    absl::StatusOr<std::optional<LockedCap>> before = LockCapRow(txn, cap_id);
    if (!before.ok()) return before.status();
    const int64_t revision = before->has_value() ? (*before)->cap.revision : 0;
    if (revision != expected_revision) return MovedOn(cap_id, expected_revision, revision);
    const std::string* before_json = before->has_value() ? &(*before)->json : nullptr;
    const std::string audited = actor.Audited();
    // An open proposal was reviewed against the revision this change replaces.
    txn.exec_params(queries::kSupersedeProposals, cap_id);
    std::optional<Cap> stored;
    if (after.has_value()) {
      auto [cap, json] = WriteRevision(txn, *after, actor.identity, signed_off_by);
      Audit(txn, cap_id, before_json ? "update" : "create", audited, before_json, &json, nullptr,
            nullptr, &actor.remark);
      stored = std::move(cap);
    } else {
      txn.exec_params(queries::kDeleteCapRow, cap_id);
      Audit(txn, cap_id, "delete", audited, before_json, nullptr, nullptr, nullptr, nullptr);
    }
    txn.commit();
    return stored;
  });
}

absl::StatusOr<CapProposal> PgCapChangeStore::Propose(CapProposal proposal, const Actor& actor) {
  return db_.Run("propose cap change", [&](PgConnection& pg) -> absl::StatusOr<CapProposal> {
    pqxx::work txn(pg);
    LockCap(txn, proposal.cap_id);
    absl::StatusOr<std::optional<LockedCap>> before = LockCapRow(txn, proposal.cap_id);
    if (!before.ok()) return before.status();
    const int64_t revision = before->has_value() ? (*before)->cap.revision : 0;
    if (revision != proposal.base_revision) {
      return MovedOn(proposal.cap_id, proposal.base_revision, revision);
    }
    txn.exec_params(queries::kSupersedeProposals, proposal.cap_id);
    const std::string cap_json = proposal.cap.has_value() ? CapRowJson(*proposal.cap) : "";
    const pqxx::row row = txn.exec_params1(
        queries::kInsertProposal, proposal.cap_id, proposal.base_revision,
        proposal.cap.has_value() ? cap_json.c_str() : nullptr, proposal.changes,
        proposal.proposed_by, proposal.proposed_note, PgTimestamp(proposal.expires_at));
    proposal.id = row[0].as<int64_t>();
    proposal.created_at = FromEpoch(row[1]);
    proposal.state = "open";
    const std::string* before_json = before->has_value() ? &(*before)->json : nullptr;
    Audit(txn, proposal.cap_id, "propose", actor.Audited(), before_json,
          proposal.cap.has_value() ? &cap_json : nullptr, nullptr, &proposal.id, &actor.remark);
    txn.commit();
    return proposal;
  });
}

absl::StatusOr<std::optional<CapProposal>> PgCapChangeStore::LoadProposal(int64_t id) {
  return db_.Run("load proposal",
                 [&](PgConnection& pg) -> absl::StatusOr<std::optional<CapProposal>> {
                   pqxx::read_transaction txn(pg);
                   const pqxx::result r = txn.exec_params(queries::kLoadProposal, id);
                   if (r.empty()) return std::optional<CapProposal>();
                   absl::StatusOr<CapProposal> p = ProposalFromRow(r[0]);
                   if (!p.ok()) return p.status();
                   return std::optional<CapProposal>(*std::move(p));
                 });
}

absl::StatusOr<std::vector<CapProposal>> PgCapChangeStore::ListOpenProposals(
    const std::string& cap_id, absl::Time now) {
  return db_.Run(
      "list proposals", [&](PgConnection& pg) -> absl::StatusOr<std::vector<CapProposal>> {
        pqxx::read_transaction txn(pg);
        std::vector<CapProposal> out;
        for (const auto& row : txn.exec_params(queries::kOpenProposals, cap_id, PgTimestamp(now))) {
          absl::StatusOr<CapProposal> p = ProposalFromRow(row);
          if (!p.ok()) return p.status();
          out.push_back(*std::move(p));
        }
        return out;
      });
}

absl::StatusOr<std::vector<Cap>> PgCapChangeStore::ListAwaitingSignOff(const std::string& cap_id) {
  return db_.Run("list caps awaiting sign-off",
                 [&](PgConnection& pg) -> absl::StatusOr<std::vector<Cap>> {
                   pqxx::read_transaction txn(pg);
                   std::vector<Cap> out;
                   for (const auto& row : txn.exec_params(queries::kAwaitingSignOff, cap_id)) {
                     absl::StatusOr<Cap> cap = CapFromRow(row);
                     if (!cap.ok()) return cap.status();
                     out.push_back(*std::move(cap));
                   }
                   return out;
                 });
}

absl::StatusOr<std::optional<Cap>> PgCapChangeStore::ApplyProposal(int64_t id,
                                                                   const Actor& approver,
                                                                   const std::string& reason,
                                                                   absl::Time now) {
  return db_.Run("approve proposal", [&](PgConnection& pg) -> absl::StatusOr<std::optional<Cap>> {
    pqxx::work txn(pg);
    // The proposal names its cap: read it first (unlocked), lock the cap, then re-read both
    // under their locks.
    pqxx::result first = txn.exec_params(queries::kLoadProposal, id);
    if (first.empty()) return absl::NotFoundError(absl::StrCat("proposal_id: no proposal ", id));
    const std::string cap_id = first[0][1].as<std::string>();
    LockCap(txn, cap_id);
    absl::StatusOr<CapProposal> p = ProposalFromRow(txn.exec_params1(queries::kLockProposal, id));
    if (!p.ok()) return p.status();
    absl::StatusOr<std::optional<LockedCap>> before = LockCapRow(txn, cap_id);
    if (!before.ok()) return before.status();
    const int64_t revision = before->has_value() ? (*before)->cap.revision : 0;
    const std::string name = absl::StrCat("proposal ", id);
    if (p->state != "open") {
      return absl::FailedPreconditionError(absl::StrCat(name, " is ", p->state));
    }
    if (now >= p->expires_at) return absl::FailedPreconditionError(absl::StrCat(name, " expired"));
    if (revision != p->base_revision) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, " is stale: it changes revision ", p->base_revision, " of cap ",
                       cap_id, ", which is at revision ", revision, " now"));
    }
    const std::string approved_by = approver.Audited();
    txn.exec_params(queries::kDecideProposal, id, approved_by, reason);
    const std::string proposer = Actor{p->proposed_by, p->proposed_note}.Audited();
    const std::string* before_json = before->has_value() ? &(*before)->json : nullptr;
    std::optional<Cap> stored;
    if (p->cap.has_value()) {
      auto [cap, json] = WriteRevision(txn, *p->cap, p->proposed_by, approver.identity);
      Audit(txn, cap_id, before_json ? "update" : "create", proposer, before_json, &json,
            &approved_by, &id, &reason);
      stored = std::move(cap);
    } else {
      txn.exec_params(queries::kDeleteCapRow, cap_id);
      Audit(txn, cap_id, "delete", proposer, before_json, nullptr, &approved_by, &id, &reason);
    }
    txn.commit();
    return stored;
  });
}

absl::StatusOr<Cap> PgCapChangeStore::SignOff(const std::string& cap_id, int64_t revision,
                                              const Actor& approver, const std::string& reason) {
  return db_.Run("sign off cap", [&](PgConnection& pg) -> absl::StatusOr<Cap> {
    pqxx::work txn(pg);
    LockCap(txn, cap_id);
    absl::StatusOr<std::optional<LockedCap>> before = LockCapRow(txn, cap_id);
    if (!before.ok()) return before.status();
    if (!before->has_value())
      return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", cap_id, "\""));
    const Cap& current = (*before)->cap;
    if (current.revision != revision || !current.signed_off_by.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("revision: cap ", cap_id, " revision ", revision,
                       " is no longer the unsigned revision in force; review it again"));
    }
    const pqxx::row row = txn.exec_params1(queries::kSignOffRevision, cap_id, approver.identity);
    absl::StatusOr<Cap> stored = CapFromRow(row);
    if (!stored.ok()) return stored.status();
    const std::string after_json = row[14].as<std::string>();
    const std::string approved_by = approver.Audited();
    Audit(txn, cap_id, "sign_off", current.changed_by, &(*before)->json, &after_json, &approved_by,
          nullptr, &reason);
    txn.commit();
    return stored;
  });
}

}  // namespace stepledger::storage
