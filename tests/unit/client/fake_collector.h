// A test-only Collector service on a real grpc::Server bound to 127.0.0.1 port 0, with just
// enough behaviour to exercise the client: it acks batches out of order, counts duplicates by
// event_id across streams, rejects events whose event_id starts with "bad-", and can end a
// stream with UNAVAILABLE after a given number of acks, as the collector does when PostgreSQL
// goes away.
//
// Thread safety: the service runs on gRPC's threads; configuration is fixed at construction
// and the shared state is behind a mutex.
#ifndef STEPLEDGER_TESTS_UNIT_CLIENT_FAKE_COLLECTOR_H_
#define STEPLEDGER_TESTS_UNIT_CLIENT_FAKE_COLLECTOR_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::testing {

struct FakeCollectorOptions {
  // Batches held before acking them newest first. 1 acks in order. Must not exceed the
  // client's in-flight window, or both sides wait for each other.
  int ack_window = 2;
  // End the stream with UNAVAILABLE when a batch arrives after this many acks (-1: never).
  int fail_after_acks = -1;
  // Ack this sequence instead of the real one (0: off), to test protocol violations.
  uint64_t bogus_ack_sequence = 0;
};

class FakeCollector final : public stepledger::v1::Collector::Service {
 public:
  explicit FakeCollector(FakeCollectorOptions options) : options_(options) {}

  grpc::Status StreamSteps(grpc::ServerContext* context,
                           grpc::ServerReaderWriter<stepledger::v1::BatchAck,
                                                    stepledger::v1::StepBatch>* stream) override {
    std::vector<stepledger::v1::StepBatch> held;
    std::vector<std::string> received_ids;
    int acks_sent = 0;
    auto ack_held = [&] {
      // Newest first, so acks arrive out of order whenever more than one is held.
      for (auto it = held.rbegin(); it != held.rend(); ++it) {
        stream->Write(Ack(*it));
        ++acks_sent;
      }
      held.clear();
    };
    stepledger::v1::StepBatch batch;
    int received = 0;
    while (stream->Read(&batch)) {
      if (options_.fail_after_acks >= 0 && acks_sent >= options_.fail_after_acks) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unreachable");
      }
      ++received;
      {
        absl::MutexLock lock(&mu_);
        max_outstanding_ = std::max(max_outstanding_, received - acks_sent);
      }
      for (const stepledger::v1::StepEvent& event : batch.events()) {
        received_ids.push_back(event.event_id());
      }
      held.push_back(batch);
      if (static_cast<int>(held.size()) >= options_.ack_window) ack_held();
    }
    ack_held();
    absl::MutexLock lock(&mu_);
    streams_.push_back(std::move(received_ids));
    return grpc::Status::OK;
  }

  // The event ids each finished stream carried, in the order they arrived; one entry per
  // stream, in the order the streams ended.
  std::vector<std::vector<std::string>> streams() const {
    absl::MutexLock lock(&mu_);
    return streams_;
  }

  // Most batches a stream had received and not yet acked at one time.
  int max_outstanding() const {
    absl::MutexLock lock(&mu_);
    return max_outstanding_;
  }

 private:
  stepledger::v1::BatchAck Ack(const stepledger::v1::StepBatch& batch) {
    stepledger::v1::BatchAck ack;
    ack.set_sequence(options_.bogus_ack_sequence != 0 ? options_.bogus_ack_sequence
                                                      : batch.sequence());
    absl::MutexLock lock(&mu_);
    for (const stepledger::v1::StepEvent& event : batch.events()) {
      if (absl::StartsWith(event.event_id(), "bad-")) {
        stepledger::v1::Rejection* rejection = ack.add_rejected();
        rejection->set_event_id(event.event_id());
        rejection->set_field("tags.team");
        rejection->set_reason("required in production");
      } else if (seen_.insert(event.event_id()).second) {
        ack.set_accepted(ack.accepted() + 1);
      } else {
        ack.set_duplicates(ack.duplicates() + 1);
      }
    }
    return ack;
  }

  const FakeCollectorOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  int max_outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::vector<std::string>> streams_ ABSL_GUARDED_BY(mu_);
};

// Owns a FakeCollector served on 127.0.0.1 at a port the OS picks.
class FakeCollectorServer {
 public:
  explicit FakeCollectorServer(FakeCollectorOptions options = {}) : service_(options) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeCollectorServer() { server_->Shutdown(); }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  const FakeCollector& service() const { return service_; }

 private:
  FakeCollector service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_UNIT_CLIENT_FAKE_COLLECTOR_H_
