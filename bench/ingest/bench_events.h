// The events every ingest benchmark sends: realistic sizes and cardinalities, the same for the
// end-to-end load (ingest_load) and the store-alone load (ledger_store_load), so that their
// figures compare.
#ifndef STEPLEDGER_BENCH_INGEST_BENCH_EVENTS_H_
#define STEPLEDGER_BENCH_INGEST_BENCH_EVENTS_H_

#include <cstdint>
#include <vector>

#include "stepledger/v1/steps.pb.h"

namespace stepledger::bench {

// `count` events of runs of 12 steps (a root, then children), ids unique per `now` (Unix
// seconds): ids like gateways generate, the six tags from realistic cardinalities (8 features,
// 4 teams, 7,000 tenants), usage, a reported cost, two attributes (~450 bytes serialized).
// Deterministic for a given `now`.
std::vector<v1::StepEvent> MakeBenchEvents(int count, int64_t now);

}  // namespace stepledger::bench

#endif  // STEPLEDGER_BENCH_INGEST_BENCH_EVENTS_H_
