#include "server/transport/server_reflection.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"

namespace stepledger::transport {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

// `file` first, then what it imports, depth first, each file once: a client can build its own
// pool from the answer alone.
void AppendWithDependencies(const FileDescriptor* file, std::set<std::string>& seen,
                            std::vector<std::string>& out) {
  if (!seen.insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out.push_back(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i)
    AppendWithDependencies(file->dependency(i), seen, out);
}

absl::StatusOr<ReflectionAnswer> Files(const FileDescriptor* file, absl::string_view what) {
  if (file == nullptr) return absl::NotFoundError(absl::StrCat(what, " not found"));
  ReflectionAnswer answer;
  std::set<std::string> seen;
  AppendWithDependencies(file, seen, answer.files);
  return answer;
}

}  // namespace

absl::StatusOr<ReflectionAnswer> AnswerReflectionQuery(const ReflectionQuery& query) {
  // The generated pool holds every .proto file linked into the collector. gRPC's own health
  // service answers without protobuf, so nothing else links health.proto's generated code:
  // naming one of its types here pulls it in, and with it the file grpc.health.v1.Health needs.
  static const Descriptor* const kHealthRequest =
      ::grpc::health::v1::HealthCheckRequest::descriptor();
  (void)kHealthRequest;
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  using Kind = ReflectionQuery::Kind;
  switch (query.kind) {
    case Kind::kFileByFilename:
      return Files(pool->FindFileByName(query.name), absl::StrCat("file ", query.name));
    case Kind::kFileContainingSymbol:
      return Files(pool->FindFileContainingSymbol(query.name), absl::StrCat("symbol ", query.name));
    case Kind::kFileContainingExtension: {
      const Descriptor* type = pool->FindMessageTypeByName(query.name);
      const FieldDescriptor* extension =
          type == nullptr ? nullptr : pool->FindExtensionByNumber(type, query.extension_number);
      return Files(extension == nullptr ? nullptr : extension->file(),
                   absl::StrCat("extension ", query.extension_number, " of ", query.name));
    }
    case Kind::kAllExtensionNumbersOfType: {
      const Descriptor* type = pool->FindMessageTypeByName(query.name);
      if (type == nullptr)
        return absl::NotFoundError(absl::StrCat("type ", query.name, " not found"));
      std::vector<const FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      ReflectionAnswer answer;
      answer.base_type_name = type->full_name();
      for (const FieldDescriptor* e : extensions) answer.extension_numbers.push_back(e->number());
      return answer;
    }
    case Kind::kListServices:  // answered by the reactor, which knows the services
    case Kind::kUnset:
      break;
  }
  return absl::InvalidArgumentError("message_request: no request set");
}

}  // namespace stepledger::transport
