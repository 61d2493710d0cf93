// Reads series back from a prometheus::Registry, as a scrape would see them.
#ifndef STEPLEDGER_TESTS_UNIT_METRICS_METRICS_TEST_UTIL_H_
#define STEPLEDGER_TESTS_UNIT_METRICS_METRICS_TEST_UTIL_H_

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <string>
#include <vector>

namespace stepledger::metrics::testing {

// Every series of family `name`, as (labels -> value).
inline std::vector<std::pair<std::map<std::string, std::string>, double>> Series(
    prometheus::Registry& registry, const std::string& name) {
  std::vector<std::pair<std::map<std::string, std::string>, double>> out;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      const double v =
          family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      out.emplace_back(std::move(labels), v);
    }
  }
  return out;
}

// The value of the one series of `name` whose labels include all of `match`; sums if several.
inline double Sum(prometheus::Registry& registry, const std::string& name,
                  const std::map<std::string, std::string>& match = {}) {
  double sum = 0;
  for (const auto& [labels, value] : Series(registry, name)) {
    bool ok = true;
    for (const auto& [k, v] : match) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) ok = false;
    }
    if (ok) sum += value;
  }
  return sum;
}

// The /metrics text, as served.
inline std::string Exposition(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace stepledger::metrics::testing

#endif  // STEPLEDGER_TESTS_UNIT_METRICS_METRICS_TEST_UTIL_H_
