// LabelGuard: the one gate that every client-derived label value (feature, team, tenant, model,
// ...) passes before it becomes part of a Prometheus series.
//
// Policy: per label name, the first `limit` distinct values seen since the process started are
// admitted and keep their own series for the life of the process ("sticky slots"); every later
// distinct value folds into "other", and stepledger_metric_label_folded_total{label} counts each
// fold. Sticky slots keep counters honest: a value never moves between series, so the sum over a
// family always equals what was counted and rate()/increase() never see a series vanish. The
// price is that "top" means "first seen": a large tenant that first appears after the slots are
// full is shown as "other" until the next restart (docs/METRICS.md, "Cardinality").
//
// Memory bound: at most limit(label) values are stored per label name, and label names are
// compile-time constants of the callers (never client data), so the guard holds at most
// sum(limit) strings, each no longer than its tag's validated maximum (128 bytes for a tenant).
//
// Thread safety: all methods are thread-safe (one mutex; the critical section is a hash lookup).
#ifndef STEPLEDGER_SERVER_METRICS_LABEL_GUARD_H_
#define STEPLEDGER_SERVER_METRICS_LABEL_GUARD_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace stepledger::metrics {

class LabelGuard {
 public:
  // The value every label folds into once its limit is reached.
  static constexpr std::string_view kOther = "other";

  struct Options {
    // Distinct values per label name, unless `limits` names the label.
    size_t default_limit = 100;
    // Per-label overrides, e.g. {"tenant", 50}.
    absl::flat_hash_map<std::string, size_t> limits;
  };

  // Registers stepledger_metric_label_folded_total{label} and
  // stepledger_metric_label_values{label} in `registry`, which must outlive this object.
  LabelGuard(prometheus::Registry& registry, Options options);

  LabelGuard(const LabelGuard&) = delete;
  LabelGuard& operator=(const LabelGuard&) = delete;

  // Returns `value` if it already has a slot under `label` or a slot is free (taking it), else
  // "other" (and counts the fold). `label` must be a constant chosen by the caller, never client
  // data: the guard keeps state per label name. `times`: the value was seen that many times at
  // once (a caller that sums a group first); each counts as a fold when it folds.
  std::string Admit(std::string_view label, std::string_view value, size_t times = 1);

  // The limit that applies to `label`.
  size_t Limit(std::string_view label) const;

 private:
  struct PerLabel {
    size_t limit = 0;
    absl::flat_hash_set<std::string> admitted;
    prometheus::Counter* folded = nullptr;
    prometheus::Gauge* values = nullptr;
  };

  PerLabel& Slot(std::string_view label) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  prometheus::Family<prometheus::Counter>& folded_family_;
  prometheus::Family<prometheus::Gauge>& values_family_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PerLabel> labels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_LABEL_GUARD_H_
