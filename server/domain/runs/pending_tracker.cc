#include "server/domain/runs/pending_tracker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::runs {

PendingTracker::PendingTracker(PendingTrackerOptions options) : options_(options) {}

PendingTracker::Entry PendingTracker::TakeLocked(const Key& key) {
  const auto& [deadline, run_id, event_id] = key;
  auto run_it = by_run_.find(run_id);
  auto entry_it = run_it->second.find(event_id);
  Entry entry = std::move(entry_it->second);
  run_it->second.erase(entry_it);
  if (run_it->second.empty()) by_run_.erase(run_it);
  by_deadline_.erase(key);  // Last: `key` may refer into by_deadline_'s storage.
  return entry;
}

absl::Status PendingTracker::Track(Step step, absl::Time received_at) {
  if (step.tags.parent_run_id.empty() || step.parent_step_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("step '", step.step_id,
                     "' cannot wait for a root: it needs parent_run_id and "
                     "parent_step_id"));
  }
  if (MissingInheritableTags(step.tags).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("step '", step.step_id, "' carries all its tags: nothing to wait for"));
  }
  const absl::Time deadline = received_at + options_.wait;
  absl::MutexLock lock(&mu_);
  auto& run = by_run_[step.tags.parent_run_id];
  if (run.contains(step.event_id)) return absl::OkStatus();
  Key key{deadline, step.tags.parent_run_id, step.event_id};
  const std::string event_id = step.event_id;
  run.emplace(event_id, Entry{std::move(step), deadline});
  by_deadline_.insert(std::move(key));
  if (by_deadline_.size() > options_.max_entries) {
    // Copy: TakeLocked() erases the set element the reference would point into.
    const Key oldest = *by_deadline_.begin();
    TakeLocked(oldest);
    ++evicted_for_capacity_;
  }
  return absl::OkStatus();
}

std::vector<ResolvedStep> PendingTracker::OnRootArrived(const std::string& run_id,
                                                        const Tags& root_tags) {
  std::vector<ResolvedStep> out;
  absl::MutexLock lock(&mu_);
  auto run_it = by_run_.find(run_id);
  if (run_it == by_run_.end()) return out;
  std::vector<Key> keys;
  for (const auto& [event_id, entry] : run_it->second)
    keys.emplace_back(entry.deadline, run_id, event_id);
  std::sort(keys.begin(), keys.end());  // Hash-map order is not an order to hand out.
  for (const Key& key : keys) {
    const Entry& entry = by_run_.find(run_id)->second.find(std::get<2>(key))->second;
    absl::StatusOr<Attribution> attribution = ResolveAttribution(entry.step, root_tags);
    if (!attribution.ok()) continue;
    Entry taken = TakeLocked(key);
    out.push_back({std::move(taken.step), *std::move(attribution)});
    ++resolved_;
  }
  return out;
}

std::vector<ExpiredStep> PendingTracker::ExpireDue(absl::Time now) {
  std::vector<ExpiredStep> out;
  absl::MutexLock lock(&mu_);
  while (!by_deadline_.empty() && std::get<0>(*by_deadline_.begin()) <= now) {
    const Key key = *by_deadline_.begin();
    Entry entry = TakeLocked(key);
    out.push_back({std::move(entry.step), entry.deadline});
    ++expired_;
  }
  return out;
}

PendingTrackerStats PendingTracker::Stats() const {
  absl::MutexLock lock(&mu_);
  return {by_deadline_.size(), resolved_, expired_, evicted_for_capacity_};
}

}  // namespace stepledger::domain::runs
