#include "server/domain/runs/open_run_cache.h"

#include <utility>

namespace stepledger::domain::runs {

OpenRunCache::OpenRunCache(const Clock& clock, OpenRunCacheOptions options)
    : clock_(clock), options_(options) {}

bool OpenRunCache::IdleLocked(const OpenRun& run, absl::Time now) const {
  return now - run.last_seen > options_.ttl;
}

size_t OpenRunCache::ExpireLocked(absl::Time now) {
  // The back is the least recently observed; stop at the first live entry. A clock that
  // stepped backwards only delays expiry, the size cap still bounds memory.
  size_t expired = 0;
  while (!lru_.empty() && IdleLocked(lru_.back(), now)) {
    index_.erase(lru_.back().run_id);
    lru_.pop_back();
    ++expired;
  }
  evicted_by_ttl_ += expired;
  return expired;
}

OpenRun& OpenRunCache::TouchLocked(const std::string& run_id, absl::Time now) {
  ExpireLocked(now);
  if (auto it = index_.find(run_id); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);  // Iterators stay valid.
    lru_.front().last_seen = now;
    return lru_.front();
  }
  if (lru_.size() >= options_.max_runs) {
    index_.erase(lru_.back().run_id);
    lru_.pop_back();
    ++evicted_by_size_;
  }
  OpenRun run;
  run.run_id = run_id;
  run.first_seen = now;
  run.last_seen = now;
  lru_.push_front(std::move(run));
  index_.emplace(run_id, lru_.begin());
  return lru_.front();
}

void OpenRunCache::Observe(const Step& step, const Tags& charged_tags) {
  if (step.tags.parent_run_id.empty()) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  OpenRun& run = TouchLocked(step.tags.parent_run_id, now);
  ++run.steps_observed;
  if (step.parent_step_id.empty() && !run.root_tags.has_value()) {
    run.root_tags = charged_tags;
    run.root_step_id = step.step_id;
  }
}

void OpenRunCache::RememberRoot(const std::string& run_id, const std::string& root_step_id,
                                const Tags& root_tags) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  OpenRun& run = TouchLocked(run_id, now);
  if (!run.root_tags.has_value()) {
    run.root_tags = root_tags;
    run.root_step_id = root_step_id;
  }
}

std::optional<OpenRun> OpenRunCache::Find(const std::string& run_id) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = index_.find(run_id);
  if (it == index_.end()) return std::nullopt;
  if (IdleLocked(*it->second, now)) {
    lru_.erase(it->second);
    index_.erase(it);
    ++evicted_by_ttl_;
    return std::nullopt;
  }
  return *it->second;
}

std::optional<Tags> OpenRunCache::FindRootTags(const std::string& run_id) {
  std::optional<OpenRun> run = Find(run_id);
  if (!run.has_value()) return std::nullopt;
  return run->root_tags;
}

size_t OpenRunCache::ExpireIdle() {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  return ExpireLocked(now);
}

OpenRunCacheStats OpenRunCache::Stats() const {
  absl::MutexLock lock(&mu_);
  return {lru_.size(), evicted_by_size_, evicted_by_ttl_};
}

}  // namespace stepledger::domain::runs
