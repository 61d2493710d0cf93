// SendAll: sends a list of events over `streams` parallel StepStreamClients and merges what
// they report. Every step of a run goes over one stream, in the order given (the stream is
// chosen by a hash of parent_run_id), so a run's root usually reaches the collector before its
// children; with many runs the streams carry about equal loads. (The collector accepts a run's
// steps over any streams in any order; this only spares it re-charging and repeated run
// updates.)
//
// Each stream gets its own channel (and so its own connection) and its own thread, and uses
// disjoint sequences (stream s sends s+1, s+1+S, s+1+2S, ...), so the merged set of acked
// sequences names exactly one batch each. A stream that no run hashes to is not opened.
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
