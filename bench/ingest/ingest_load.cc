// ingest_load: streams N realistic StepEvents to a collector over S streams (batches of B) and
// prints the acked events/s end to end. Acked means committed: the collector acks a batch only
// after its transaction committed.
//
//   ingest_load TARGET [EVENTS=500000] [STREAMS=8] [BATCH=500]
//
// Prints one line "acked_events=N seconds=S events_per_second=R" and exits non-zero if any
// event was not acked or was rejected.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bench/ingest/bench_events.h"
#include "client/lib/send_all.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ingest_load TARGET [EVENTS] [STREAMS] [BATCH]\n");
    return 64;
  }
  const std::string target = argv[1];
  const int events_n = argc > 2 ? std::atoi(argv[2]) : 500000;
  const int streams = argc > 3 ? std::atoi(argv[3]) : 8;
  const int batch = argc > 4 ? std::atoi(argv[4]) : 500;

  const std::vector<stepledger::v1::StepEvent> events =
      stepledger::bench::MakeBenchEvents(events_n, absl::ToUnixSeconds(absl::Now()));

  stepledger::client::SendOptions options;
  options.streams = streams;
  options.stream.batch_size = batch;
  options.stream.max_in_flight = 8;
  const absl::Time start = absl::Now();
  stepledger::client::StreamResult result = stepledger::client::SendAll(target, events, options);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t acked = result.totals.accepted + result.totals.duplicates;
  std::printf("acked_events=%lld seconds=%.2f events_per_second=%.0f streams=%d batch=%d\n",
              static_cast<long long>(acked), seconds, acked / seconds, streams, batch);
  if (!result.all_acked() || result.totals.rejected != 0) {
    std::fprintf(stderr, "ingest_load: not everything acked: %s, %zu unacked, %lld rejected\n",
                 result.status.ToString().c_str(), result.unacked_events.size(),
                 static_cast<long long>(result.totals.rejected));
    return 1;
  }
  return 0;
}
