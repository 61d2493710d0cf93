// Runs the collector until SIGTERM/SIGINT: migrates, opens the write path, serves gRPC and
// /metrics, and on a signal stops accepting, commits and acks what is in flight, exits 0.
#ifndef STEPLEDGER_SERVER_APP_APP_H_
#define STEPLEDGER_SERVER_APP_APP_H_

#include "server/config/config.h"

namespace stepledger::app {

// REQUIRES: SIGTERM and SIGINT are blocked in the calling thread (main does it before any
// thread starts, so every thread inherits the mask and Run() can sigwait for them).
// Returns the process exit code.
int Run(const config::Config& config);

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_APP_H_
