// The gRPC server's explicit limits (docs/OPERATING.md, "gRPC limits"): message size after
// decompression, streams per connection, keepalive, idle timeout and connection age, from the
// config; logged once at start so that an operator sees what is in force.
#ifndef STEPLEDGER_SERVER_APP_GRPC_LIMITS_H_
#define STEPLEDGER_SERVER_APP_GRPC_LIMITS_H_

#include <grpcpp/server_builder.h>

#include "server/config/config.h"

namespace stepledger::app {

void ApplyGrpcLimits(const config::Config& config, grpc::ServerBuilder& builder);

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_GRPC_LIMITS_H_
