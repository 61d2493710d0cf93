// ServerReflection: gRPC server reflection (grpc.reflection.v1 and v1alpha) served as callback
// services, so that grpcurl, Postman and similar tools list and call the collector's services
// without the project's .proto files.
//
// Why not gRPC's own (libgrpc++_reflection): it is a synchronous service, and registering any
// synchronous service gives the server a pool of polling threads that broke the memory bound
// held against clients that never read their acks (docs/RELIABILITY.md). This one answers from
// the generated descriptor pool on the gRPC thread: lookups in memory, no I/O, no blocking.
//
// Protocol: one answer per request, in order; a request that cannot be answered gets an
// error_response (NOT_FOUND or INVALID_ARGUMENT) and the stream goes on, as the protocol says.
// A file is answered with its transitive dependencies, each once, the file itself first.
//
// Thread safety: the service is immutable after construction; each stream's reactor is used by
// one gRPC reaction at a time (a read, then its write, then the next read).
// Lifetime: reactors delete themselves in OnDone().
#ifndef STEPLEDGER_SERVER_TRANSPORT_SERVER_REFLECTION_H_
#define STEPLEDGER_SERVER_TRANSPORT_SERVER_REFLECTION_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace stepledger::transport {

// What one reflection request asks for, whatever the protocol version.
struct ReflectionQuery {
  enum class Kind {
    kUnset,
    kListServices,
    kFileByFilename,
    kFileContainingSymbol,
    kFileContainingExtension,
    kAllExtensionNumbersOfType,
  };
  Kind kind = Kind::kUnset;
  std::string name;  // file name, symbol or type name, per kind
  int extension_number = 0;
};

// The answer to a query that is not kListServices: serialized FileDescriptorProtos (files) or a
// base type and its extension numbers (extensions); NotFound / InvalidArgument otherwise.
struct ReflectionAnswer {
  std::vector<std::string> files;
  std::string base_type_name;
  std::vector<int> extension_numbers;
};
absl::StatusOr<ReflectionAnswer> AnswerReflectionQuery(const ReflectionQuery& query);

namespace reflection_internal {

template <typename Request>
ReflectionQuery ToQuery(const Request& request) {
  ReflectionQuery q;
  using Kind = ReflectionQuery::Kind;
  switch (request.message_request_case()) {
    case Request::kListServices:
      q.kind = Kind::kListServices;
      break;
    case Request::kFileByFilename:
      q.kind = Kind::kFileByFilename;
      q.name = request.file_by_filename();
      break;
    case Request::kFileContainingSymbol:
      q.kind = Kind::kFileContainingSymbol;
      q.name = request.file_containing_symbol();
      break;
    case Request::kFileContainingExtension:
      q.kind = Kind::kFileContainingExtension;
      q.name = request.file_containing_extension().containing_type();
      q.extension_number = request.file_containing_extension().extension_number();
      break;
    case Request::kAllExtensionNumbersOfType:
      q.kind = Kind::kAllExtensionNumbersOfType;
      q.name = request.all_extension_numbers_of_type();
      break;
    default:
      break;
  }
  return q;
}

template <typename Request, typename Response>
void Answer(const std::vector<std::string>& services, const Request& request, Response* response) {
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  const ReflectionQuery query = ToQuery(request);
  if (query.kind == ReflectionQuery::Kind::kListServices) {
    for (const auto& name : services)
      response->mutable_list_services_response()->add_service()->set_name(name);
    return;
  }
  absl::StatusOr<ReflectionAnswer> answer = AnswerReflectionQuery(query);
  if (!answer.ok()) {
    response->mutable_error_response()->set_error_code(static_cast<int>(answer.status().code()));
    response->mutable_error_response()->set_error_message(std::string(answer.status().message()));
  } else if (query.kind == ReflectionQuery::Kind::kAllExtensionNumbersOfType) {
    auto* out = response->mutable_all_extension_numbers_response();
    out->set_base_type_name(answer->base_type_name);
    for (int number : answer->extension_numbers) out->add_extension_number(number);
  } else {
    for (auto& file : answer->files)
      response->mutable_file_descriptor_response()->add_file_descriptor_proto(std::move(file));
  }
}

// One ServerReflectionInfo stream: read a request, write its answer, read the next.
template <typename Request, typename Response>
class ReflectionReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit ReflectionReactor(const std::vector<std::string>& services) : services_(services) {
    this->StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (or left): every request has been answered
      this->Finish(grpc::Status::OK);
      return;
    }
    response_.Clear();
    Answer(services_, request_, &response_);
    this->StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "reflection stream cancelled"));
      return;
    }
    this->StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  const std::vector<std::string>& services_;
  Request request_;
  Response response_;
};

template <typename Api, typename Request, typename Response>
class ReflectionService final : public Api::CallbackService {
 public:
  // `services`: the full names answered to list_services.
  explicit ReflectionService(std::vector<std::string> services) : services_(std::move(services)) {}

  grpc::ServerBidiReactor<Request, Response>* ServerReflectionInfo(
      grpc::CallbackServerContext* /*context*/) override {
    return new ReflectionReactor<Request, Response>(services_);
  }

 private:
  const std::vector<std::string> services_;
};

}  // namespace reflection_internal

using ServerReflectionV1 =
    reflection_internal::ReflectionService<::grpc::reflection::v1::ServerReflection,
                                           ::grpc::reflection::v1::ServerReflectionRequest,
                                           ::grpc::reflection::v1::ServerReflectionResponse>;
using ServerReflectionV1Alpha =
    reflection_internal::ReflectionService<::grpc::reflection::v1alpha::ServerReflection,
                                           ::grpc::reflection::v1alpha::ServerReflectionRequest,
                                           ::grpc::reflection::v1alpha::ServerReflectionResponse>;

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_SERVER_REFLECTION_H_
