#include "server/domain/budget/acknowledgements.h"

#include <algorithm>

namespace stepledger::domain::budget {

void AcknowledgementBook::Put(Acknowledgement ack) {
  std::vector<Acknowledgement>& acks = by_cap_[ack.cap_id];
  for (Acknowledgement& existing : acks) {
    if (existing.id == ack.id) {
      existing = std::move(ack);
      return;
    }
  }
  acks.push_back(std::move(ack));
  std::stable_sort(acks.begin(), acks.end(),
                   [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  ++size_;
}

AckHeadroom AcknowledgementBook::HeadroomAt(std::string_view cap_id, absl::Time t) const {
  AckHeadroom h;
  if (by_cap_.empty()) return h;  // The common case; skips hashing the id on the check path.
  auto it = by_cap_.find(AbslView(cap_id));
  if (it == by_cap_.end()) return h;
  for (const Acknowledgement& a : it->second) {
    if (!a.ActiveAt(t)) continue;
    h.granted += a.extra_headroom;
    h.remaining += a.left();
  }
  return h;
}

NanoUsd AcknowledgementBook::Consume(std::string_view cap_id, NanoUsd amount, absl::Time t) {
  auto it = by_cap_.find(AbslView(cap_id));
  if (it == by_cap_.end() || amount <= 0) return 0;
  std::vector<Acknowledgement*> active;
  for (Acknowledgement& a : it->second) {
    if (a.ActiveAt(t) && a.left() > 0) active.push_back(&a);
  }
  // Headroom about to expire is used first, so that less of it is wasted.
  std::sort(active.begin(), active.end(),
            [](const auto* a, const auto* b) { return a->expires_at < b->expires_at; });
  NanoUsd consumed = 0;
  for (Acknowledgement* a : active) {
    const NanoUsd take = std::min(a->left(), amount - consumed);
    a->consumed += take;
    consumed += take;
    if (consumed == amount) break;
  }
  return consumed;
}

std::vector<Acknowledgement> AcknowledgementBook::List(std::string_view cap_id) const {
  if (cap_id.empty()) {
    std::vector<Acknowledgement> all;
    all.reserve(size_);
    for (const auto& [unused, acks] : by_cap_) all.insert(all.end(), acks.begin(), acks.end());
    return all;
  }
  auto it = by_cap_.find(AbslView(cap_id));
  return it == by_cap_.end() ? std::vector<Acknowledgement>{} : it->second;
}

}  // namespace stepledger::domain::budget
