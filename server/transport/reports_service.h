// gRPC Reports service (callback API): GetShowback builds the showback report from the daily
// rollups (rolling up the period's missing days first when the request asks). Reading them is
// blocking PostgreSQL work, so it runs on a WorkPool; the reaction
// only validates the request and schedules.
//
// The inputs are loaded through a ShowbackLoader (in the collector:
// storage::LoadShowbackInputs on the configured database), which keeps this library free of
// SQL and lets tests feed the service directly.
//
// Thread safety: the service is immutable after construction; the loader must be callable
// from several pool threads at once.
#ifndef STEPLEDGER_SERVER_TRANSPORT_REPORTS_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_REPORTS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "server/domain/reports/rollup_result.h"
#include "server/domain/reports/showback.h"
#include "server/domain/reports/showback_loading.h"
#include "server/transport/authorizer.h"
#include "server/transport/reports_convert.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/reports.grpc.pb.h"

namespace stepledger::transport {

// The ports of domain/reports/showback_loading.h: the loader of the report inputs, and the
// rollup (Admin.RollUp's work) for requests with roll_up_missing.
using ShowbackLoader = domain::reports::ShowbackLoader;
using RollupRunner = domain::reports::RollupRunner;

class ReportsService final : public v1::Reports::CallbackService {
 public:
  // REQUIRES: `pool` outlives the service. Without `roll_up`, a request with roll_up_missing
  // and missing days fails with FAILED_PRECONDITION.
  // REQUIRES: `pool` and `authorizer` outlive the service.
  ReportsService(ShowbackLoader loader, WorkPool& pool, const Authorizer& authorizer,
                 RollupRunner roll_up = nullptr);

  grpc::ServerUnaryReactor* GetShowback(grpc::CallbackServerContext* context,
                                        const v1::ShowbackRequest* request,
                                        v1::ShowbackReport* response) override;

 private:
  const ShowbackLoader loader_;
  WorkPool& pool_;
  const Authorizer& authorizer_;
  const RollupRunner roll_up_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_REPORTS_SERVICE_H_
