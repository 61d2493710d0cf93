// SendAll: sends a list of events over `streams` parallel StepStreamClients and merges what
// they report. Event i goes to stream i % streams (round robin), so the streams carry equal
// loads; steps of one run may land on different streams, which the collector is built for.
//
// Each stream gets its own channel (and so its own connection) and its own thread, and uses
// disjoint sequences (stream s sends s+1, s+1+S, s+1+2S, ...), so the merged set of acked
// sequences names exactly one batch each.
//
// Thread safety: SendAll may be called from any thread; it owns every thread it starts and
// joins them before returning.
#ifndef STEPLEDGER_CLIENT_LIB_SEND_ALL_H_
#define STEPLEDGER_CLIENT_LIB_SEND_ALL_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "client/lib/step_stream_client.h"
#include "client/lib/stream_result.h"
#include "stepledger/v1/collector.pb.h"

namespace stepledger::client {

struct SendOptions {
  // Applied to every stream; first_sequence and sequence_stride are set by SendAll.
  StreamOptions stream;
  // Parallel streams, >= 1.
  int streams = 1;
};

// Sends `events` to the collector at `target` ("host:port") and returns the merged result:
// totals summed; rejections and unacked events in stream order; status OK only if every
// stream's was, otherwise the first failing stream's.
// An invalid SendOptions gives INVALID_ARGUMENT with every event unacked (nothing was sent).
StreamResult SendAll(const std::string& target, absl::Span<const stepledger::v1::StepEvent> events,
                     const SendOptions& options);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_SEND_ALL_H_
