#include "server/domain/budget/reservations.h"

#include "absl/strings/str_cat.h"

namespace stepledger::domain::budget {

const Reservation& ReservationBook::Add(std::string_view step_id, NanoUsd amount, absl::Time now,
                                        absl::Duration ttl, HeldCounters counters) {
  auto r = std::make_unique<Reservation>();
  r->id = absl::StrCat("rsv-", id_prefix_, "-", next_seq_++);
  r->step_id = std::string(step_id);
  r->amount = amount;
  r->created_at = now;
  r->expires_at = now + ttl;
  r->counters = std::move(counters);
  for (Counter* c : r->counters) {
    c->local_reserved += amount;
    ++c->open_reservations;
  }
  expiry_.insert({r->expires_at, r.get()});
  auto [it, inserted] = open_.emplace(r->step_id, std::move(r));
  return *it->second;
}

void ReservationBook::AddRemote(std::string_view step_id, std::string_view id, NanoUsd amount,
                                absl::Time created_at, absl::Time expires_at,
                                HeldCounters counters) {
  auto r = std::make_unique<Reservation>();
  r->id = std::string(id);
  r->step_id = std::string(step_id);
  r->amount = amount;
  r->created_at = created_at;
  r->expires_at = expires_at;
  r->counters = std::move(counters);
  r->remote = true;
  for (Counter* c : r->counters) {
    c->remote_reserved += amount;
    ++c->open_reservations;
  }
  ++remote_count_;
  expiry_.insert({r->expires_at, r.get()});
  open_.emplace(r->step_id, std::move(r));
}

const Reservation* ReservationBook::FindOpen(std::string_view step_id) const {
  auto it = open_.find(AbslView(step_id));
  return it == open_.end() ? nullptr : it->second.get();
}

void ReservationBook::MarkSettled(std::string_view step_id, absl::Time until) {
  auto [it, inserted] = settled_.try_emplace(std::string(step_id), until);
  if (!inserted && it->second >= until) return;
  it->second = until;
  settled_order_.emplace_back(until, std::string(step_id));
}

void ReservationBook::Release(const Reservation& r) {
  for (Counter* c : r.counters) {
    (r.remote ? c->remote_reserved : c->local_reserved) -= r.amount;
    --c->open_reservations;
  }
}

bool ReservationBook::Cancel(std::string_view step_id) {
  auto it = open_.find(AbslView(step_id));
  if (it == open_.end()) return false;
  Release(*it->second);
  if (it->second->remote) --remote_count_;
  expiry_.erase({it->second->expires_at, it->second.get()});
  open_.erase(it);
  return true;
}

ReservationBook::SettleResult ReservationBook::Settle(std::string_view step_id, absl::Time now,
                                                      absl::Duration ttl) {
  if (!Cancel(step_id)) {
    return settled_.contains(AbslView(step_id)) ? SettleResult::kAlreadySettled
                                                : SettleResult::kNoReservation;
  }
  settled_[std::string(step_id)] = now + ttl;
  settled_order_.emplace_back(now + ttl, std::string(step_id));
  return SettleResult::kSettled;
}

int ReservationBook::Expire(absl::Time now) {
  int expired = 0;
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const Reservation* r = expiry_.begin()->second;
    expiry_.erase(expiry_.begin());
    Release(*r);
    if (r->remote) {
      --remote_count_;
    } else {
      ++expired;
    }
    open_.erase(open_.find(r->step_id));  // Destroys *r; nothing reads it afterwards.
  }
  while (!settled_order_.empty() && settled_order_.front().first <= now) {
    auto it = settled_.find(settled_order_.front().second);
    // A later settle of the same step_id may have extended the tombstone.
    if (it != settled_.end() && it->second <= now) settled_.erase(it);
    settled_order_.pop_front();
  }
  return expired;
}

}  // namespace stepledger::domain::budget
