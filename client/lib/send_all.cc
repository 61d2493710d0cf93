#include "client/lib/send_all.h"

#include <functional>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/lib/credentials.h"

namespace stepledger::client {
namespace {

// A channel of its own, so that parallel streams get parallel connections instead of being
// multiplexed over one (which would cap them at one connection's throughput).
std::shared_ptr<grpc::Channel> MakeDedicatedChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, CollectorCredentialsFromEnvironment(), args);
}

// The stream that carries `event`: every step of a run goes over the same stream, in the
// order given. A run's root (usually its first step) then reaches the collector before its
// children and the run's steps arrive together, as from a gateway that streams each agent's
// steps over its own connection; striped over streams, a run's children often commit before
// its root and must be re-charged when it arrives, and the run is upserted once per write group
// it touches.
size_t StreamFor(const stepledger::v1::StepEvent& event, size_t stream_count) {
  return std::hash<std::string_view>()(event.tags().parent_run_id()) % stream_count;
}

StreamResult SendOneStream(const std::string& target,
                           absl::Span<const stepledger::v1::StepEvent> events,
                           const std::vector<size_t>& indices, int stream_index, int stream_count,
                           StreamOptions options) {
  options.first_sequence = static_cast<uint64_t>(stream_index) + 1;
  options.sequence_stride = static_cast<uint64_t>(stream_count);
  StepStreamClient client(MakeDedicatedChannel(target), options);
  for (size_t i : indices) {
    // Keep adding after a failure: the client records the rest as unacked without sending,
    // which is what the caller needs to re-send them.
    client.Add(events[i]);
  }
  return client.Finish();
}

void MergeInto(StreamResult& total, StreamResult part) {
  if (total.status.ok() && !part.status.ok()) total.status = std::move(part.status);
  total.totals += part.totals;
  total.rejections.insert(total.rejections.end(), std::make_move_iterator(part.rejections.begin()),
                          std::make_move_iterator(part.rejections.end()));
  total.acked_sequences.insert(part.acked_sequences.begin(), part.acked_sequences.end());
  total.unacked_events.insert(total.unacked_events.end(),
                              std::make_move_iterator(part.unacked_events.begin()),
                              std::make_move_iterator(part.unacked_events.end()));
}

}  // namespace

StreamResult SendAll(const std::string& target, absl::Span<const stepledger::v1::StepEvent> events,
                     const SendOptions& options) {
  absl::Status valid = ValidateStreamOptions(options.stream);
  if (valid.ok() && options.streams < 1) {
    valid = absl::InvalidArgumentError(absl::StrCat("streams must be >= 1, got ", options.streams));
  }
  if (!valid.ok()) {
    StreamResult result;
    result.status = std::move(valid);
    result.unacked_events.assign(events.begin(), events.end());
    return result;
  }

  // Never open more streams than there are events to put on them.
  const int stream_count =
      static_cast<int>(std::max<size_t>(1, std::min<size_t>(options.streams, events.size())));
  std::vector<std::vector<size_t>> indices(stream_count);
  for (size_t i = 0; i < events.size(); ++i) {
    indices[StreamFor(events[i], stream_count)].push_back(i);
  }
  std::vector<StreamResult> parts(stream_count);
  std::vector<std::thread> threads;
  threads.reserve(stream_count);
  for (int s = 0; s < stream_count; ++s) {
    // A stream with no runs opens no connection.
    if (indices[s].empty()) continue;
    threads.emplace_back([&, s] {
      parts[s] = SendOneStream(target, events, indices[s], s, stream_count, options.stream);
    });
  }
  for (std::thread& thread : threads) thread.join();

  StreamResult result;
  for (StreamResult& part : parts) MergeInto(result, std::move(part));
  return result;
}

}  // namespace stepledger::client
