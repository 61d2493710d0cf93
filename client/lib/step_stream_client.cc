#include "client/lib/step_stream_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/credentials.h"

namespace stepledger::client {
namespace {

// The collector's hard limit on events per batch (see StepBatch in collector.proto).
constexpr int kMaxBatchSize = 1000;

// gRPC and Abseil share the canonical status codes one to one.
absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

absl::Status ValidateStreamOptions(const StreamOptions& options) {
  if (options.batch_size < 1 || options.batch_size > kMaxBatchSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch size must be 1..", kMaxBatchSize, ", got ", options.batch_size));
  }
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max in-flight batches must be >= 1, got ", options.max_in_flight));
  }
  if (options.first_sequence < 1 || options.sequence_stride < 1) {
    return absl::InvalidArgumentError("sequences must start at >= 1 with a stride >= 1");
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> MakeCollectorChannel(const std::string& target) {
  return grpc::CreateChannel(target, CollectorCredentialsFromEnvironment());
}

StepStreamClient::StepStreamClient(std::shared_ptr<grpc::ChannelInterface> channel,
                                   StreamOptions options)
    : options_(options),
      stub_(stepledger::v1::Collector::NewStub(std::move(channel))),
      batcher_(options.batch_size, options.first_sequence, options.sequence_stride) {
  if (options_.deadline != absl::InfiniteDuration()) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  }
  stream_ = stub_->StreamSteps(&context_);
  reader_ = std::thread([this] { ReadAcks(); });
}

StepStreamClient::~StepStreamClient() {
  if (finished_) return;
  // Abandoned without Finish(): stop the stream so the reader's Read() returns, then collect
  // the status, which a sync stream must have read before it is destroyed.
  context_.TryCancel();
  reader_.join();
  stream_->Finish().IgnoreError();
}

bool StepStreamClient::Add(stepledger::v1::StepEvent event) {
  if (std::optional<stepledger::v1::StepBatch> batch = batcher_.Add(std::move(event))) {
    Send(*std::move(batch));
  }
  absl::MutexLock lock(&mu_);
  return !read_done_ && !write_failed_;
}

bool StepStreamClient::CanSend() const {
  return read_done_ || tracker_.in_flight() < options_.max_in_flight;
}

void StepStreamClient::Send(stepledger::v1::StepBatch batch) {
  auto shared = std::make_shared<const stepledger::v1::StepBatch>(std::move(batch));
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &StepStreamClient::CanSend));
    if (read_done_ || write_failed_) {
      tracker_.OnNeverSent(*shared);
      return;
    }
    // Recorded before the write: the ack can arrive before Write() returns.
    tracker_.OnSent(shared);
  }
  // Outside the lock: Write() blocks on transport flow control, and the reader must be able to
  // record acks meanwhile. If it fails the batch stays in flight and is reported unacked.
  if (!stream_->Write(*shared)) write_failed_ = true;
}

void StepStreamClient::ReadAcks() {
  stepledger::v1::BatchAck ack;
  while (stream_->Read(&ack)) {
    absl::MutexLock lock(&mu_);
    absl::Status matched = tracker_.OnAck(ack);
    if (!matched.ok() && protocol_error_.ok()) {
      // A collector that acks what it was not sent cannot be trusted with the rest either.
      protocol_error_ = matched;
      context_.TryCancel();
    }
  }
  absl::MutexLock lock(&mu_);
  read_done_ = true;
}

StreamResult StepStreamClient::Finish() {
  if (std::optional<stepledger::v1::StepBatch> batch = batcher_.Flush()) {
    Send(*std::move(batch));
  }
  // Half-close so the collector knows no more batches come; it then acks what it has and
  // ends the stream, which makes the reader's Read() return false.
  if (!write_failed_) stream_->WritesDone();
  reader_.join();
  absl::Status status = ToAbslStatus(stream_->Finish());
  finished_ = true;

  absl::MutexLock lock(&mu_);
  if (!protocol_error_.ok()) {
    // The stream's own status is just CANCELLED by us; the reason is the violation.
    status = absl::InternalError(protocol_error_.message());
  }
  return tracker_.TakeResult(std::move(status));
}

}  // namespace stepledger::client
