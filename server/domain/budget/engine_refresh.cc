// BudgetEngine: the refresh from the shared counters table (ApplyFullSnapshot and its
// baseline, ExportLocalCounters) and the pruning of closed periods. See engine.h.
#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/engine_internal.h"
#include "server/domain/budget/period.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

using engine_internal::IsFinite;
using engine_internal::kPeriods;

absl::Status ValidateCounterKey(const CounterKey& key, std::string_view field) {
  if (key.scope == Scope::kUnspecified || !IsValidScopeKey(key.scope, key.key)) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".scope/key: invalid"));
  }
  if (key.environment == Environment::kUnspecified) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".environment: required"));
  }
  if (key.period == Period::kUnspecified) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".period: required"));
  }
  if (!IsFinite(key.period_start) ||
      PeriodStart(key.period, key.period_start) != key.period_start) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field),
                                                   ".period_start: not the start of a ",
                                                   AbslView(ToString(key.period)), " period"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BudgetEngine::ApplyFullSnapshot(const SharedSnapshot& snapshot,
                                             absl::Span<const CounterTotals> local_baseline) {
  if (!IsFinite(snapshot.as_of)) return absl::InvalidArgumentError("as_of: must be finite");
  for (size_t i = 0; i < snapshot.rows.size(); ++i) {
    const CounterTotals& row = snapshot.rows[i];
    const std::string field = absl::StrCat("rows[", i, "]");
    if (absl::Status s = ValidateCounterKey(row.key, absl::StrCat(field, ".key")); !s.ok()) {
      return s;
    }
    if (row.spent < 0 || row.reserved < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".spent/reserved: negative"));
    }
  }
  absl::flat_hash_map<CounterKey, const CounterTotals*, CounterKeyHash, CounterKeyEq> baseline;
  baseline.reserve(local_baseline.size());
  for (const CounterTotals& b : local_baseline) baseline[b.key] = &b;
  // What each row makes of the other replicas' part: the row minus this replica's own.
  auto others_of = [&](const CounterTotals& row) {
    NanoUsd own_spent = 0, own_reserved = 0;
    if (auto it = baseline.find(CounterKeyRef::Of(row.key)); it != baseline.end()) {
      own_spent = it->second->spent;
      own_reserved = it->second->reserved;
    }
    return std::pair<NanoUsd, NanoUsd>{std::max<NanoUsd>(0, row.spent - own_spent),
                                       std::max<NanoUsd>(0, row.reserved - own_reserved)};
  };

  // A refresh reads every counter row of the open periods (10,000 or more with as many caps)
  // every second, and nearly all of them are as they were. Finding those takes a cache miss or
  // two per row, milliseconds in all; doing it under the exclusive lock would stop every check
  // for that long, once a second. So the rows are compared under the shared lock, alongside
  // checks, and the exclusive lock is taken only to write the rows that differ. apply_mu_ keeps
  // a second snapshot from writing others_* between the two passes; nothing else writes them,
  // so a row found equal stays equal. Counters are looked up again in the second pass because
  // PruneClosedPeriods may remove one in between.
  absl::MutexLock apply_lock(&apply_mu_);
  std::vector<size_t> changed;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (last_snapshot_as_of_.has_value() && snapshot.as_of < *last_snapshot_as_of_) {
      return absl::AbortedError("as_of: older than the last applied snapshot");
    }
    for (size_t i = 0; i < snapshot.rows.size(); ++i) {
      const CounterKey& key = snapshot.rows[i].key;
      // A key no cap watches gets no counter, whatever storage sends (a cap deleted since the
      // read began, say): the engine's memory stays bounded by the caps.
      if (!Watched(key.scope, key.key)) continue;
      const Counter* c = counters_.Find(CounterKeyRef::Of(key));
      const auto [others_spent, others_reserved] = others_of(snapshot.rows[i]);
      if (c == nullptr || c->others_spent != others_spent ||
          c->others_reserved != others_reserved) {
        changed.push_back(i);
      }
    }
  }

  // Only ApplyFullSnapshot writes last_snapshot_as_of_, and apply_mu_ is held, so the as_of
  // check above still holds.
  absl::MutexLock lock(&mu_);
  last_snapshot_as_of_ = snapshot.as_of;
  for (size_t i : changed) {
    const CounterTotals& row = snapshot.rows[i];
    const CounterKeyRef ref = CounterKeyRef::Of(row.key);
    KeyCaps* entry = IndexEntry(ref.scope, ref.key);
    // A cap may have been deleted between the two passes.
    if (entry == nullptr && ref.scope != Scope::kOrg) continue;
    Counter& c = CounterFor(ref, entry);
    const NanoUsd before = c.spent();
    std::tie(c.others_spent, c.others_reserved) = others_of(row);
    // Other replicas' growth since the last snapshot feeds the burn rate (at the time it
    // became visible) and consumes acknowledged headroom like local spend does.
    if (c.spent() > before) {
      c.burn.Add(snapshot.as_of, c.spent() - before);
      ConsumeHeadroom(ref, entry, before, c.spent(), snapshot.as_of);
    }
  }
  return absl::OkStatus();
}

std::vector<CounterTotals> BudgetEngine::ExportLocalCounters() const {
  std::vector<CounterTotals> out;
  absl::ReaderMutexLock lock(&mu_);
  counters_.ForEach([&](const CounterKey& key, const Counter& c) {
    if (c.local_spent != 0 || c.local_reserved != 0) {
      out.push_back({key, c.local_spent, c.local_reserved});
    }
  });
  return out;
}

int BudgetEngine::PruneClosedPeriods(absl::Time ended_by) {
  absl::MutexLock lock(&mu_);
  // Forget every remembered counter Prune may remove (it removes only counters of periods that
  // ended by `ended_by`), before it does, so no index entry ever points at a freed counter.
  for (auto& by_key : index_) {
    for (auto& [key, entry] : by_key) {
      for (size_t p = 0; p < kPeriods.size(); ++p) {
        KeyCaps::CounterSlot& slot = entry.current[p];
        if (slot.counter != nullptr && PeriodEnd(kPeriods[p], slot.period_start) <= ended_by) {
          slot = {};
        }
      }
    }
  }
  return counters_.Prune(ended_by);
}

}  // namespace stepledger::domain::budget
