// Domain run view (domain/runs/run_query.h) -> v1::Run, the GetRun answer.
//
// The flat, pre-ordered node list of a RunTree becomes nested RunNodes. Nesting stops at
// kMaxRunNestingDepth levels: protobuf parsers refuse messages nested much deeper (100 by
// default), so a deeper chain would make the whole answer unreadable. A node whose children
// are cut off says so (children_omitted), its subtree costs still include them, and an issue
// line reports the cut. Real agent runs are a handful of levels deep.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_TRANSPORT_RUN_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_RUN_CONVERT_H_

#include "server/domain/runs/run_query.h"
#include "stepledger/v1/collector.pb.h"

namespace stepledger::transport {

// Depth of the deepest RunNode emitted (a root is depth 0).
inline constexpr int kMaxRunNestingDepth = 64;

// Fills `out` (cleared first) from `view`.
void ToProto(const domain::runs::RunView& view, v1::Run* out);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_RUN_CONVERT_H_
