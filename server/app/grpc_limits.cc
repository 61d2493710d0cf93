#include "server/app/grpc_limits.h"

#include <grpc/grpc.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace stepledger::app {
namespace {

// gRPC takes milliseconds as an int; INT_MAX (about 24 days) is its "never".
int Millis(absl::Duration d) {
  if (d == absl::ZeroDuration() || d >= absl::Milliseconds(INT_MAX)) return INT_MAX;
  return static_cast<int>(absl::ToInt64Milliseconds(d));
}

std::string Describe(absl::Duration d) {
  return d == absl::ZeroDuration() ? "off" : absl::FormatDuration(d);
}

}  // namespace

void ApplyGrpcLimits(const config::Config& c, grpc::ServerBuilder& builder) {
  // gRPC checks this size again after decompressing a message, so a small compressed message
  // cannot unpack into more than this.
  builder.SetMaxReceiveMessageSize(c.max_receive_message_bytes);
  // More streams wait for the client's next stream slot.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, c.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(c.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(c.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Millis(c.keepalive_min_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             c.keepalive_permit_without_calls ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, Millis(c.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Millis(c.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Millis(c.max_connection_age_grace));
  log::Info(
      "gRPC limits",
      {{"max_receive_message_bytes", absl::StrCat(c.max_receive_message_bytes)},
       {"max_concurrent_streams", absl::StrCat(c.max_concurrent_streams)},
       {"keepalive_time", Describe(c.keepalive_time)},
       {"keepalive_timeout", Describe(c.keepalive_timeout)},
       {"keepalive_min_ping_interval", absl::FormatDuration(c.keepalive_min_ping_interval)},
       {"keepalive_permit_without_calls", c.keepalive_permit_without_calls ? "true" : "false"},
       {"max_connection_idle", Describe(c.max_connection_idle)},
       {"max_connection_age", Describe(c.max_connection_age)},
       {"max_connection_age_grace", absl::FormatDuration(c.max_connection_age_grace)}});
}

}  // namespace stepledger::app
