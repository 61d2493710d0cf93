#include "client/lib/run_client.h"

#include "absl/time/clock.h"
#include "client/lib/credentials.h"

namespace stepledger::client {

std::shared_ptr<grpc::Channel> MakeRunChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxRunMessageBytes);
  return grpc::CreateCustomChannel(target, CollectorCredentialsFromEnvironment(), args);
}

absl::StatusOr<stepledger::v1::Run> GetRun(stepledger::v1::Collector::StubInterface& stub,
                                           const std::string& run_id, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  stepledger::v1::GetRunRequest request;
  request.set_run_id(run_id);
  stepledger::v1::Run run;
  grpc::Status status = stub.GetRun(&context, request, &run);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return run;
}

absl::StatusOr<stepledger::v1::Run> GetRun(const std::string& target, const std::string& run_id,
                                           absl::Duration timeout) {
  std::unique_ptr<stepledger::v1::Collector::Stub> stub =
      stepledger::v1::Collector::NewStub(MakeRunChannel(target));
  return GetRun(*stub, run_id, timeout);
}

}  // namespace stepledger::client
