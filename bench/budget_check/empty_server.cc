// empty_server: the gRPC floor for bench/budget_check, on the callback API, built exactly as the
// collector builds its server (grpc::ServerBuilder defaults, insecure credentials, the same max
// receive size, Abseil's mutex deadlock detection off as in server/main.cc):
//   Echo   an empty unary RPC that does no work (the floor)
//   Check  a real CheckBudgetRequest in, a canned CheckBudgetResponse out (5 caps, every field
//          set, like the collector's answer for a feature with a daily and a monthly cap), no
//          budget work: the floor plus the messages' cost, built the usual typed way with the
//          messages on a per-call arena (arena_message_allocator.h). The collector writes its
//          answer's bytes directly instead (server/transport/check_response_encoding.h), so
//          check/canned also shows what that saves. A request with only_deciding_cap gets
//          the same answer cut to its deciding cap (one status), as the collector cuts its own
//
//   empty_server [ADDRESS=127.0.0.1:0 [CERT_PEM KEY_PEM]]
//
// With CERT_PEM and KEY_PEM it serves TLS with the collector's own credentials code
// (transport::TlsCertificates, as --tls-cert/--tls-key): the TLS floor. It reads no API key; a
// client may send one (the load client sends the same metadata to every kind).
//
// Prints "ready port=N" on stdout once listening; stops on SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "arena_message_allocator.h"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/transport/server_credentials.h"

namespace {

stepledger::v1::CheckBudgetResponse CannedResponse() {
  using stepledger::v1::CapStatus;
  stepledger::v1::CheckBudgetResponse r;
  r.set_decision(stepledger::v1::DECISION_ALERT);
  r.set_deciding_scope(stepledger::v1::SCOPE_TENANT);
  r.set_deciding_cap_id("x-tenant-4711");
  struct Row {
    const char* id;
    stepledger::v1::Scope scope;
    const char* key;
    stepledger::v1::Period period;
    int64_t limit_usd;
  };
  const Row rows[] = {
      {"f-feat-123", stepledger::v1::SCOPE_FEATURE, "feat-123", stepledger::v1::PERIOD_DAILY, 200},
      {"fm-feat-123", stepledger::v1::SCOPE_FEATURE, "feat-123", stepledger::v1::PERIOD_MONTHLY,
       3000},
      {"t-team-123", stepledger::v1::SCOPE_TEAM, "team-123", stepledger::v1::PERIOD_MONTHLY, 20000},
      {"x-tenant-4711", stepledger::v1::SCOPE_TENANT, "tenant-4711", stepledger::v1::PERIOD_MONTHLY,
       500},
      {"org-emergency", stepledger::v1::SCOPE_ORG, "*", stepledger::v1::PERIOD_DAILY, 1000000}};
  for (const Row& row : rows) {
    CapStatus* s = r.add_caps();
    s->set_cap_id(row.id);
    s->set_scope(row.scope);
    s->set_key(row.key);
    s->set_period(row.period);
    s->set_limit_nano_usd(row.limit_usd * 1'000'000'000);
    s->set_action(stepledger::v1::CAP_ACTION_ALERT);
    s->set_alert_threshold_bps(8000);
    s->set_owner("bench-owner");
    s->set_shadow(false);
    s->set_spent_nano_usd(row.limit_usd * 612'345'678);
    s->set_reserved_nano_usd(12'345'678);
    s->set_remaining_nano_usd(row.limit_usd * 387'654'321);
    s->set_burn_rate_nano_usd_per_hour(1'234'567'890);
    s->set_projected_exhaustion_unix_seconds(1'795'900'000);
    s->set_period_start_unix_seconds(1'795'824'000);
    s->set_period_end_unix_seconds(1'795'910'400);
    s->set_decision(stepledger::v1::DECISION_ALLOW);
  }
  return r;
}

// The canned answer to a request with only_deciding_cap: its deciding cap's status alone.
stepledger::v1::CheckBudgetResponse OnlyDecidingCap(stepledger::v1::CheckBudgetResponse full) {
  auto* caps = full.mutable_caps();
  for (int i = caps->size() - 1; i >= 0; --i) {
    if (caps->Get(i).cap_id() != full.deciding_cap_id()) caps->DeleteSubrange(i, 1);
  }
  return full;
}

class EchoService final : public stepledger::bench::Echo::CallbackService {
 public:
  EchoService() { SetMessageAllocatorFor_Check(&check_allocator_); }

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const stepledger::v1::CheckBudgetRequest* request,
                                  stepledger::v1::CheckBudgetResponse* response) override {
    *response = request->only_deciding_cap() ? canned_deciding_ : canned_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const stepledger::bench::EchoRequest* /*request*/,
                                 stepledger::bench::EchoResponse* /*response*/) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const stepledger::v1::CheckBudgetResponse canned_ = CannedResponse();
  const stepledger::v1::CheckBudgetResponse canned_deciding_ = OnlyDecidingCap(canned_);
  stepledger::bench::ArenaMessageAllocator<stepledger::v1::CheckBudgetRequest,
                                           stepledger::v1::CheckBudgetResponse>
      check_allocator_;
};

}  // namespace

int main(int argc, char** argv) {
  // As server/main.cc: Debian's Abseil checks every mutex for deadlock cycles by default, which
  // costs microseconds per RPC inside gRPC; a floor that paid it would flatter the ratio.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:0";
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  std::shared_ptr<stepledger::transport::TlsCertificates> tls;
  if (argc == 4) {
    auto loaded = stepledger::transport::TlsCertificates::Load({argv[2], argv[3], ""});
    if (!loaded.ok()) {
      std::fprintf(stderr, "empty_server: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    tls = *std::move(loaded);
    credentials = tls->ServerCredentials();
  } else if (argc > 2) {
    std::fprintf(stderr, "usage: empty_server [ADDRESS [CERT_PEM KEY_PEM]]\n");
    return 64;
  }
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, credentials, &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);  // as the collector
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "empty_server: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::printf("ready port=%d\n", port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown();
  return 0;
}
