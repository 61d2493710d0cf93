// Pricing metrics: unpriced steps by model and reason, priced spend by cost source, the price
// catalog version in force and its reloads. Declared once; fed by the write path (as a
// CommitObserver: only steps that were stored for the first time count) and by app/ reloads.
//
//   stepledger_unpriced_steps_total{model, reason}        steps stored without a cost
//   stepledger_unpriced_model_label_folded_total          of those, counted as model="other"
//   stepledger_priced_spend_usd_total{source}             computed | reported, in USD
//   stepledger_price_catalog_info{version}                1 for the newest stored version
//   stepledger_price_catalog_versions                     stored versions in the book
//   stepledger_price_catalog_reloads_total{result}        created | unchanged | refreshed | error
//
// Cardinality: `reason` is the closed set of docs/PRICING.md ("unknown" when empty); `model`
// is the step's model (or its tool name, or "(none)"), at most kMaxModelLabels distinct values
// over the process's life; later new values are counted as "other" and in the folded counter.
//
// Thread safety: all methods are thread-safe.
#ifndef STEPLEDGER_SERVER_METRICS_PRICING_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_PRICING_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/ingest/group_committer.h"
#include "server/metrics/label_guard.h"

namespace stepledger::metrics {

// Keeps at most `max_values` distinct label values; others become "other".
class BoundedLabelSet {
 public:
  static constexpr std::string_view kOther = "other";
  explicit BoundedLabelSet(size_t max_values) : max_values_(max_values) {}

  // Returns `value` if it is (or now becomes) one of the kept values, else kOther, and sets
  // *folded accordingly.
  std::string Fold(std::string_view value, bool* folded) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t max_values_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> kept_ ABSL_GUARDED_BY(mu_);
};

class PricingMetrics final : public domain::ingest::CommitObserver {
 public:
  static constexpr size_t kMaxModelLabels = 50;

  // `guard` may be null (then the model label is bounded by this class alone, at
  // kMaxModelLabels); it must outlive this object.
  explicit PricingMetrics(prometheus::Registry& registry, LabelGuard* guard = nullptr);

  // CommitObserver
  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration latency) override;
  void OnGroupFailed(const absl::Status& status, size_t events) override {}

  // Counts one stored unpriced step (also used by OnGroupCommitted).
  void OnUnpricedStep(std::string_view model, std::string_view reason);

  enum class ReloadResult { kCreated, kUnchanged, kRefreshed, kError };
  void OnCatalogReload(ReloadResult result);
  // The newest stored version and how many are in the book ("" and 0: none).
  void SetCatalogVersion(const std::string& newest_version_id, size_t versions)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  prometheus::Family<prometheus::Counter>& unpriced_family_;
  prometheus::Counter& folded_;
  prometheus::Counter& spend_computed_;
  prometheus::Counter& spend_reported_;
  prometheus::Family<prometheus::Gauge>& info_family_;
  prometheus::Gauge& versions_;
  prometheus::Family<prometheus::Counter>& reloads_family_;
  BoundedLabelSet models_;
  LabelGuard* const guard_;
  absl::Mutex mu_;
  prometheus::Gauge* info_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_PRICING_METRICS_H_
