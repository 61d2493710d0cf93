// BudgetEngine: construction, caps and their index, and which keys have counters. Checks, spend,
// reservations and acknowledgements are in engine_check.cc; snapshots and pruning in
// engine_refresh.cc.
#include "server/domain/budget/engine.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/domain/budget/engine_internal.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

using engine_internal::PeriodBit;
using engine_internal::Periods;

std::string RandomInstanceId() {
  absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

}  // namespace

BudgetEngine::BudgetEngine(const Clock& clock, EngineOptions options)
    : clock_(clock),
      options_(std::move(options)),
      instance_id_(options_.instance_id.empty() ? RandomInstanceId() : options_.instance_id),
      reservations_(instance_id_) {}

absl::StatusOr<Cap> BudgetEngine::UpsertCap(Cap cap) {
  cap = ApplyCapDefaults(std::move(cap));
  if (absl::Status s = ValidateCap(cap); !s.ok()) return s;
  auto stored = std::make_shared<const Cap>(cap);
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = caps_.try_emplace(cap.id, stored);
  std::shared_ptr<const Cap> replaced;
  if (!inserted) {
    replaced = std::exchange(it->second, stored);
    RemoveFromIndex(*replaced);
  }
  KeyCaps& on_key = index_[static_cast<size_t>(cap.scope)][cap.key];
  on_key.caps.push_back(std::move(stored));
  on_key.periods |= PeriodBit(cap.period);
  // A cap moved to another key may leave its old key unwatched.
  if (replaced != nullptr && !Watched(replaced->scope, replaced->key)) {
    DropCountersOf(replaced->scope, replaced->key);
  }
  return cap;
}

BudgetEngine::KeyCaps* BudgetEngine::IndexEntry(Scope scope, std::string_view key) {
  auto& by_key = index_[static_cast<size_t>(scope)];
  auto it = by_key.find(AbslView(key));
  return it == by_key.end() ? nullptr : &it->second;
}

bool BudgetEngine::Watched(Scope scope, std::string_view key) const {
  return scope == Scope::kOrg || index_[static_cast<size_t>(scope)].contains(AbslView(key));
}

Counter& BudgetEngine::CounterFor(const CounterKeyRef& key, KeyCaps* entry) {
  if (entry == nullptr) return counters_.FindOrCreate(key);
  KeyCaps::CounterSlot& slot = entry->current[key.period == Period::kDaily ? 0 : 1];
  // The remembered counter spares the counter table's lookup on the writer's path too.
  if (slot.counter != nullptr && slot.environment == key.environment &&
      slot.period_start == key.period_start) {
    return *slot.counter;
  }
  Counter& counter = counters_.FindOrCreate(key);
  // The newest period wins: a late event for an earlier period must not displace the counter
  // that current checks read.
  if (slot.counter == nullptr || key.period_start >= slot.period_start) {
    slot = {&counter, key.environment, key.period_start};
  }
  return counter;
}

void BudgetEngine::RemoveFromIndex(const Cap& cap) {
  auto& by_key = index_[static_cast<size_t>(cap.scope)];
  auto it = by_key.find(cap.key);
  if (it == by_key.end()) return;
  auto& list = it->second.caps;
  list.erase(
      std::remove_if(list.begin(), list.end(), [&](const auto& c) { return c->id == cap.id; }),
      list.end());
  if (list.empty()) {
    by_key.erase(it);
    return;
  }
  it->second.periods = 0;
  for (const auto& c : list) it->second.periods |= PeriodBit(c->period);
}

void BudgetEngine::DropCountersOf(Scope scope, std::string_view key) {
  // The key's index entry is gone, and with it every Counter* it remembered; a counter that a
  // reservation holds stays until the reservation ends and PruneClosedPeriods removes it.
  counters_.EraseKey(scope, key);
}

absl::Status BudgetEngine::DeleteCap(std::string_view cap_id) {
  absl::MutexLock lock(&mu_);
  auto it = caps_.find(AbslView(cap_id));
  if (it == caps_.end()) {
    return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", AbslView(cap_id), "\""));
  }
  const std::shared_ptr<const Cap> cap = it->second;
  RemoveFromIndex(*cap);
  caps_.erase(it);
  if (!Watched(cap->scope, cap->key)) DropCountersOf(cap->scope, cap->key);
  return absl::OkStatus();
}

std::vector<Cap> BudgetEngine::ListCaps() const {
  std::vector<Cap> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(caps_.size());
    for (const auto& [id, cap] : caps_) out.push_back(*cap);
  }
  std::sort(out.begin(), out.end(), [](const Cap& a, const Cap& b) { return a.id < b.id; });
  return out;
}

std::optional<Cap> BudgetEngine::GetCap(std::string_view cap_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = caps_.find(AbslView(cap_id));
  if (it == caps_.end()) return std::nullopt;
  return *it->second;
}

std::vector<std::shared_ptr<const Cap>> BudgetEngine::CapSnapshot() const {
  std::vector<std::shared_ptr<const Cap>> out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(caps_.size());
  for (const auto& [id, cap] : caps_) out.push_back(cap);
  return out;
}

std::vector<CapSpend> BudgetEngine::SpendPerCap(absl::Time now) const {
  const Periods periods(now);
  std::vector<CapSpend> out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(caps_.size());
  for (const auto& [id, cap] : caps_) {
    CapSpend& s = out.emplace_back();
    s.cap = cap;
    s.period_end = periods.end(cap->period);
    if (const Counter* c = counters_.Find(
            {cap->scope, cap->key, cap->environment, cap->period, periods.start(cap->period)})) {
      s.spent = c->spent();
    }
  }
  return out;
}

EngineStats BudgetEngine::Stats() const {
  absl::ReaderMutexLock lock(&mu_);
  EngineStats s;
  s.caps = caps_.size();
  s.counters = counters_.size();
  s.open_reservations = reservations_.open_count();
  s.reservations_made = reservations_made_;
  s.reservations_settled = reservations_settled_;
  s.reservations_expired = reservations_expired_;
  s.duplicate_settles = duplicate_settles_;
  s.acknowledgements = acks_.size();
  s.remote_reservations = reservations_.remote_count();
  return s;
}

void BudgetEngine::MarkCountersCurrent(absl::Time as_of) {
  absl::MutexLock lock(&mu_);
  // Refreshes run one at a time, but a slow one must never make the counters look older.
  if (!counters_as_of_.has_value() || as_of > *counters_as_of_) counters_as_of_ = as_of;
}

std::optional<absl::Time> BudgetEngine::CountersAsOf() const {
  absl::ReaderMutexLock lock(&mu_);
  return counters_as_of_;
}

}  // namespace stepledger::domain::budget
