// E2E: server reflection (grpc.reflection.v1 and v1alpha) on a real collector, as grpcurl uses
// it: list the services, then describe each one from the file descriptors the collector sends,
// with no .proto file on the client's side.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

// One reflection stream, asked one request at a time.
template <typename Api, typename Request, typename Response>
class ReflectionClient {
 public:
  explicit ReflectionClient(const std::string& target)
      : stub_(Api::NewStub(testing::ChannelWithoutKey(target))),
        stream_(stub_->ServerReflectionInfo(&context_)) {}

  Response Ask(const Request& request) {
    Response response;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&response));
    return response;
  }
  grpc::Status Close() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<typename Api::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
};

// Lists the services and describes each from the descriptors sent; returns the method count
// per service, so the caller can check that every listed service is describable.
template <typename Api, typename Request, typename Response>
void ExpectEveryServiceDescribed(const std::string& target) {
  ReflectionClient<Api, Request, Response> client(target);
  Request list;
  list.set_list_services("*");
  const Response listed = client.Ask(list);
  ASSERT_TRUE(listed.has_list_services_response()) << listed.DebugString();
  std::vector<std::string> services;
  for (const auto& s : listed.list_services_response().service()) services.push_back(s.name());
  EXPECT_THAT(services, ::testing::IsSupersetOf({"stepledger.v1.Collector", "stepledger.v1.Budget",
                                                 "stepledger.v1.Reports", "stepledger.v1.Admin",
                                                 "grpc.health.v1.Health"}));

  for (const std::string& service : services) {
    Request ask;
    ask.set_file_containing_symbol(service);
    const Response answer = client.Ask(ask);
    ASSERT_TRUE(answer.has_file_descriptor_response()) << service << ": " << answer.DebugString();
    EXPECT_EQ(answer.original_request().file_containing_symbol(), service);
    // The answer alone must be enough to build the service's descriptor (dependencies included).
    google::protobuf::SimpleDescriptorDatabase files;
    for (const std::string& bytes : answer.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes)) << service;
      ASSERT_TRUE(files.Add(file)) << service << ": " << file.name();
    }
    google::protobuf::DescriptorPool pool(&files);
    const google::protobuf::ServiceDescriptor* descriptor = pool.FindServiceByName(service);
    ASSERT_NE(descriptor, nullptr) << service;
    EXPECT_GT(descriptor->method_count(), 0) << service;
    if (service == "stepledger.v1.Collector") {
      const google::protobuf::MethodDescriptor* stream =
          descriptor->FindMethodByName("StreamSteps");
      ASSERT_NE(stream, nullptr);
      EXPECT_TRUE(stream->client_streaming());
      EXPECT_TRUE(stream->server_streaming());
      EXPECT_EQ(stream->input_type()->full_name(), "stepledger.v1.StepBatch");
    }
  }
  EXPECT_TRUE(client.Close().ok());
}

TEST(ReflectionE2ETest, EveryListedServiceIsDescribedFromTheAnswerAloneOnV1AndV1Alpha) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();

  namespace r1 = ::grpc::reflection::v1;
  namespace r1a = ::grpc::reflection::v1alpha;
  ExpectEveryServiceDescribed<r1::ServerReflection, r1::ServerReflectionRequest,
                              r1::ServerReflectionResponse>(collector.target());
  ExpectEveryServiceDescribed<r1a::ServerReflection, r1a::ServerReflectionRequest,
                              r1a::ServerReflectionResponse>(collector.target());
}

TEST(ReflectionE2ETest, AnUnknownSymbolIsNotFoundAndTheStreamGoesOn) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();

  namespace r1 = ::grpc::reflection::v1;
  ReflectionClient<r1::ServerReflection, r1::ServerReflectionRequest, r1::ServerReflectionResponse>
      client(collector.target());
  r1::ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("stepledger.v1.NoSuchService");
  const r1::ServerReflectionResponse missing = client.Ask(unknown);
  ASSERT_TRUE(missing.has_error_response()) << missing.DebugString();
  EXPECT_EQ(missing.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(missing.error_response().error_message().find("stepledger.v1.NoSuchService"),
            std::string::npos);

  r1::ServerReflectionRequest empty;  // no request set at all
  const r1::ServerReflectionResponse invalid = client.Ask(empty);
  ASSERT_TRUE(invalid.has_error_response());
  EXPECT_EQ(invalid.error_response().error_code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));

  r1::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("stepledger/v1/budget.proto");
  const r1::ServerReflectionResponse file = client.Ask(by_name);
  ASSERT_TRUE(file.has_file_descriptor_response()) << file.DebugString();
  google::protobuf::FileDescriptorProto first;
  ASSERT_TRUE(first.ParseFromString(file.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(first.name(), "stepledger/v1/budget.proto");  // the file asked for comes first
  EXPECT_TRUE(client.Close().ok());
}

}  // namespace
}  // namespace stepledger
