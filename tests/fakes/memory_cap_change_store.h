// MemoryCapChangeStore: the sign-off flow's store (domain/budget/cap_governance.h) in memory,
// for unit tests. Caps it stores are mirrored into a MemoryBudgetRepository (when given), so a
// coordinator's refresh sees them as it would see PostgreSQL's. Audit rows are kept as
// "action changed_by [approved_by]" lines for tests to read.
#ifndef STEPLEDGER_TESTS_FAKES_MEMORY_CAP_CHANGE_STORE_H_
#define STEPLEDGER_TESTS_FAKES_MEMORY_CAP_CHANGE_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/budget/cap_governance.h"
#include "tests/fakes/memory_budget_repository.h"

namespace stepledger::testing {

class MemoryCapChangeStore final : public domain::budget::CapChangeStore {
 public:
  using Actor = domain::budget::Actor;
  using Cap = domain::budget::Cap;
  using CapProposal = domain::budget::CapProposal;

  explicit MemoryCapChangeStore(MemoryBudgetRepository* mirror = nullptr) : mirror_(mirror) {}

  absl::StatusOr<std::optional<Cap>> LoadCap(const std::string& cap_id) override {
    absl::MutexLock lock(&mu_);
    auto it = caps_.find(cap_id);
    return it == caps_.end() ? std::optional<Cap>() : std::optional<Cap>(it->second);
  }
  absl::StatusOr<std::optional<Cap>> ApplyChange(const std::string& cap_id, int64_t expected,
                                                 const std::optional<Cap>& after,
                                                 const Actor& actor,
                                                 const std::string& signed_off_by) override {
    absl::MutexLock lock(&mu_);
    if (Revision(cap_id) != expected) return absl::AbortedError("cap moved");
    Supersede(cap_id);
    audit.push_back(absl::StrCat(
        after ? (caps_.contains(cap_id) ? "update " : "create ") : "delete ", actor.Audited()));
    return Write(cap_id, after, actor.identity, signed_off_by);
  }
  absl::StatusOr<CapProposal> Propose(CapProposal p, const Actor& actor) override {
    absl::MutexLock lock(&mu_);
    if (Revision(p.cap_id) != p.base_revision) return absl::AbortedError("cap moved");
    Supersede(p.cap_id);
    p.id = ++last_proposal_;
    p.state = "open";
    proposals_[p.id] = p;
    audit.push_back(absl::StrCat("propose ", actor.Audited()));
    return p;
  }
  absl::StatusOr<std::optional<CapProposal>> LoadProposal(int64_t id) override {
    absl::MutexLock lock(&mu_);
    auto it = proposals_.find(id);
    return it == proposals_.end() ? std::optional<CapProposal>()
                                  : std::optional<CapProposal>(it->second);
  }
  absl::StatusOr<std::vector<CapProposal>> ListOpenProposals(const std::string& cap_id,
                                                             absl::Time now) override {
    absl::MutexLock lock(&mu_);
    std::vector<CapProposal> out;
    for (const auto& [id, p] : proposals_) {
      if (p.state == "open" && p.expires_at > now && (cap_id.empty() || p.cap_id == cap_id)) {
        out.push_back(p);
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<Cap>> ListAwaitingSignOff(const std::string& cap_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<Cap> out;
    for (const auto& [id, c] : caps_) {
      if (c.signed_off_by.empty() && !c.shadow && (cap_id.empty() || id == cap_id)) {
        out.push_back(c);
      }
    }
    return out;
  }
  absl::StatusOr<std::optional<Cap>> ApplyProposal(int64_t id, const Actor& approver,
                                                   const std::string& reason,
                                                   absl::Time now) override {
    absl::MutexLock lock(&mu_);
    CapProposal& p = proposals_.at(id);
    if (p.state != "open" || now >= p.expires_at || Revision(p.cap_id) != p.base_revision) {
      return absl::FailedPreconditionError(absl::StrCat("proposal ", id, " is stale"));
    }
    p.state = "approved";
    audit.push_back(absl::StrCat(p.cap ? "update " : "delete ",
                                 Actor{p.proposed_by, p.proposed_note}.Audited(), " approved by ",
                                 approver.Audited()));
    return Write(p.cap_id, p.cap, p.proposed_by, approver.identity);
  }
  absl::StatusOr<Cap> SignOff(const std::string& cap_id, int64_t revision, const Actor& approver,
                              const std::string& reason) override {
    absl::MutexLock lock(&mu_);
    auto it = caps_.find(cap_id);
    if (it == caps_.end() || it->second.revision != revision || !it->second.signed_off_by.empty()) {
      return absl::FailedPreconditionError("revision moved");
    }
    it->second.signed_off_by = approver.identity;
    audit.push_back(
        absl::StrCat("sign_off ", it->second.changed_by, " approved by ", approver.Audited()));
    if (mirror_ != nullptr) mirror_->SetCap(it->second);
    return it->second;
  }

  std::vector<std::string> audit;  // read by tests after the calls

 private:
  int64_t Revision(const std::string& cap_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = caps_.find(cap_id);
    return it == caps_.end() ? 0 : it->second.revision;
  }
  void Supersede(const std::string& cap_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& [id, p] : proposals_) {
      if (p.cap_id == cap_id && p.state == "open") p.state = "superseded";
    }
  }
  std::optional<Cap> Write(const std::string& cap_id, const std::optional<Cap>& after,
                           const std::string& author, const std::string& signed_off_by)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!after.has_value()) {
      caps_.erase(cap_id);
      if (mirror_ != nullptr) mirror_->EraseCap(cap_id);
      return std::nullopt;
    }
    Cap cap = *after;
    cap.revision = Revision(cap_id) + 1;
    cap.changed_by = author;
    cap.signed_off_by = signed_off_by;
    caps_[cap_id] = cap;
    if (mirror_ != nullptr) mirror_->SetCap(cap);
    return cap;
  }

  MemoryBudgetRepository* const mirror_;
  absl::Mutex mu_;
  std::map<std::string, Cap> caps_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, CapProposal> proposals_ ABSL_GUARDED_BY(mu_);
  int64_t last_proposal_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_MEMORY_CAP_CHANGE_STORE_H_
