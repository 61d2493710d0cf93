// Acknowledgements: a named person accepts spending past a REQUIRE_ACK cap, says why, and grants
// extra headroom until an expiry. They are an audit trail (PostgreSQL keeps them forever); in
// memory they also carry how much of their headroom spend past the limit has consumed.
//
// Headroom is a pool per acknowledgement, not per period: it is consumed by counter growth past
// the cap's limit (PastLimitGrowth) while the acknowledgement is active, earliest expiry first,
// and an expired acknowledgement no longer counts, whatever it has left.
//
// Invariants: 0 <= consumed <= extra_headroom; acknowledgements are never removed.
// Thread safety: none; the engine's mutex serialises access.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_ACKNOWLEDGEMENTS_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_ACKNOWLEDGEMENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "server/domain/budget/decision.h"
#include "server/domain/budget/string_key.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

struct Acknowledgement {
  std::string id;
  std::string cap_id;
  std::string principal;  // Who acknowledged.
  std::string reason;
  NanoUsd extra_headroom = 0;
  NanoUsd consumed = 0;  // Part of extra_headroom used by spend past the cap's limit.
  absl::Time created_at;
  absl::Time expires_at;

  bool ActiveAt(absl::Time t) const { return t < expires_at; }
  NanoUsd left() const { return extra_headroom - consumed; }
};

class AcknowledgementBook {
 public:
  // Adds an acknowledgement, or replaces the one with the same id (recovery, refresh).
  void Put(Acknowledgement ack);

  // What the cap's acknowledgements active at `t` grant.
  AckHeadroom HeadroomAt(std::string_view cap_id, absl::Time t) const;

  // Consumes up to `amount` from the cap's acknowledgements active at `t`, earliest expiry
  // first. Returns how much was consumed (less than amount when headroom ran out).
  NanoUsd Consume(std::string_view cap_id, NanoUsd amount, absl::Time t);

  // The audit trail of one cap, oldest first; an empty cap_id lists every cap's.
  std::vector<Acknowledgement> List(std::string_view cap_id) const;

  bool HasAny(std::string_view cap_id) const { return by_cap_.contains(AbslView(cap_id)); }
  bool Empty() const { return by_cap_.empty(); }
  size_t size() const { return size_; }

 private:
  absl::flat_hash_map<std::string, std::vector<Acknowledgement>> by_cap_;
  size_t size_ = 0;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_ACKNOWLEDGEMENTS_H_
