#include "server/metrics/label_guard.h"

#include <utility>

namespace stepledger::metrics {
namespace {

// Debian's Abseil has its own string_view; its hash containers look up by that type.
absl::string_view AsAbsl(std::string_view v) { return absl::string_view(v.data(), v.size()); }

}  // namespace

LabelGuard::LabelGuard(prometheus::Registry& registry, Options options)
    : options_(std::move(options)),
      folded_family_(prometheus::BuildCounter()
                         .Name("stepledger_metric_label_folded_total")
                         .Help("Label values folded into \"other\" because the label's limit "
                               "on distinct values was reached, by label")
                         .Register(registry)),
      values_family_(prometheus::BuildGauge()
                         .Name("stepledger_metric_label_values")
                         .Help("Distinct values holding their own series, by label (at most "
                               "the label's limit)")
                         .Register(registry)) {}

size_t LabelGuard::Limit(std::string_view label) const {
  auto it = options_.limits.find(AsAbsl(label));
  return it == options_.limits.end() ? options_.default_limit : it->second;
}

LabelGuard::PerLabel& LabelGuard::Slot(std::string_view label) {
  auto it = labels_.find(AsAbsl(label));
  if (it != labels_.end()) return it->second;
  PerLabel& slot = labels_[std::string(label)];
  slot.limit = Limit(label);
  slot.folded = &folded_family_.Add({{"label", std::string(label)}});
  slot.values = &values_family_.Add({{"label", std::string(label)}});
  return slot;
}

std::string LabelGuard::Admit(std::string_view label, std::string_view value, size_t times) {
  absl::MutexLock lock(&mu_);
  PerLabel& slot = Slot(label);
  if (slot.admitted.contains(AsAbsl(value))) return std::string(value);
  if (slot.admitted.size() < slot.limit) {
    slot.admitted.emplace(std::string(value));
    slot.values->Set(static_cast<double>(slot.admitted.size()));
    return std::string(value);
  }
  slot.folded->Increment(static_cast<double>(times));
  return std::string(kOther);
}

}  // namespace stepledger::metrics
