#include "server/transport/step_convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace stepledger::transport {
namespace {

domain::WorkloadClass FromProto(v1::WorkloadClass v) {
  switch (v) {
    case v1::WORKLOAD_CLASS_INTERACTIVE:
      return domain::WorkloadClass::kInteractive;
    case v1::WORKLOAD_CLASS_BATCH:
      return domain::WorkloadClass::kBatch;
    case v1::WORKLOAD_CLASS_EVAL:
      return domain::WorkloadClass::kEval;
    case v1::WORKLOAD_CLASS_BACKGROUND:
      return domain::WorkloadClass::kBackground;
    default:
      return domain::WorkloadClass::kUnspecified;
  }
}

domain::StepKind FromProto(v1::StepKind v) {
  switch (v) {
    case v1::STEP_KIND_MODEL_CALL:
      return domain::StepKind::kModelCall;
    case v1::STEP_KIND_TOOL_CALL:
      return domain::StepKind::kToolCall;
    case v1::STEP_KIND_RETRIEVAL:
      return domain::StepKind::kRetrieval;
    case v1::STEP_KIND_EMBEDDING:
      return domain::StepKind::kEmbedding;
    case v1::STEP_KIND_RERANK:
      return domain::StepKind::kRerank;
    default:
      return domain::StepKind::kOther;
  }
}

// Converts `t` into `out`, or reports why it is not a valid Timestamp (`out` left unset).
void ConvertTime(std::string_view field, const google::protobuf::Timestamp& t,
                 std::optional<absl::Time>& out, std::optional<domain::ingest::FieldError>& error) {
  std::optional<absl::Time> time = TimeFromProto(t);
  if (!time.has_value()) {
    if (!error.has_value()) {
      error = domain::ingest::FieldError{
          std::string(field),
          absl::StrCat("malformed: not a valid protobuf Timestamp (seconds=", t.seconds(),
                       ", nanos=", t.nanos(),
                       "; must be 0001-01-01..9999-12-31 with nanos 0..999999999)")};
    }
    return;
  }
  out = time;
}

// The six tags; the same for the API's Tags and the lenient WireTags.
template <typename TagsMessage>
domain::Tags TagsFromWire(const TagsMessage& tags) {
  domain::Tags out;
  out.feature = tags.feature();
  out.team = tags.team();
  out.workload_class = FromProto(tags.workload_class());
  out.tenant = tags.tenant();
  out.environment = EnvironmentFromProto(tags.environment());
  out.parent_run_id = tags.parent_run_id();
  return out;
}

void CopyAttributes(const v1::StepEvent& e, domain::Step& s) {
  for (const auto& [k, v] : e.attributes()) s.attributes.emplace(k, v);
}

void CopyAttributes(const internal::WireStepEvent& e, domain::Step& s) {
  // As protobuf reads a map: the last entry for a key wins.
  for (const internal::WireAttribute& a : e.attributes()) s.attributes[a.key()] = a.value();
}

// One conversion for both readings of a StepEvent (their accessors have the same names), into
// a default-constructed step.
template <typename Event>
void Convert(const Event& e, domain::Step& s, std::optional<domain::ingest::FieldError>& error) {
  s.event_id = e.event_id();
  s.tags = TagsFromWire(e.tags());
  s.step_id = e.step_id();
  s.parent_step_id = e.parent_step_id();
  s.kind = FromProto(e.kind());
  s.name = e.name();
  s.provider = e.provider();
  s.model = e.model();
  const v1::Usage& u = e.usage();
  if (u.has_input_uncached_tokens()) s.usage.input_uncached_tokens = u.input_uncached_tokens();
  if (u.has_cache_read_tokens()) s.usage.cache_read_tokens = u.cache_read_tokens();
  if (u.has_cache_write_tokens()) s.usage.cache_write_tokens = u.cache_write_tokens();
  if (u.has_output_tokens()) s.usage.output_tokens = u.output_tokens();
  if (u.has_reasoning_tokens()) s.usage.reasoning_tokens = u.reasoning_tokens();
  if (e.has_cost_nano_usd()) s.cost_nano_usd = e.cost_nano_usd();
  s.tool_name = e.tool_name();
  s.tool_owner_team = e.tool_owner_team();
  s.status = e.status();
  s.operation_id = e.operation_id();
  s.attempt = e.attempt();
  if (e.has_started_at()) ConvertTime("started_at", e.started_at(), s.started_at, error);
  if (e.has_ended_at()) ConvertTime("ended_at", e.ended_at(), s.ended_at, error);
  CopyAttributes(e, s);
  s.service_tier = e.service_tier();
  if (e.has_tool_units()) s.tool_units = e.tool_units();
}

}  // namespace

std::optional<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t) {
  // Protobuf's own Timestamp rules (timestamp.proto): 0001-01-01T00:00:00Z through
  // 9999-12-31T23:59:59.999999999Z, nanos in 0..999,999,999. Everything in that range is also
  // in PostgreSQL's timestamptz range, so a time that passes here can always be stored.
  constexpr int64_t kMinSeconds = -62'135'596'800;
  constexpr int64_t kMaxSeconds = 253'402'300'799;
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999'999'999) {
    return std::nullopt;
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

domain::Environment EnvironmentFromProto(v1::Environment v) {
  switch (v) {
    case v1::ENVIRONMENT_PRODUCTION:
      return domain::Environment::kProduction;
    case v1::ENVIRONMENT_STAGING:
      return domain::Environment::kStaging;
    case v1::ENVIRONMENT_EVAL:
      return domain::Environment::kEval;
    default:
      return domain::Environment::kUnspecified;
  }
}

domain::Tags FromProto(const v1::Tags& tags) { return TagsFromWire(tags); }

void ToProto(const domain::Tags& tags, v1::Tags* out) {
  out->set_feature(tags.feature);
  out->set_team(tags.team);
  switch (tags.workload_class) {
    case domain::WorkloadClass::kInteractive:
      out->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
      break;
    case domain::WorkloadClass::kBatch:
      out->set_workload_class(v1::WORKLOAD_CLASS_BATCH);
      break;
    case domain::WorkloadClass::kEval:
      out->set_workload_class(v1::WORKLOAD_CLASS_EVAL);
      break;
    case domain::WorkloadClass::kBackground:
      out->set_workload_class(v1::WORKLOAD_CLASS_BACKGROUND);
      break;
    case domain::WorkloadClass::kUnspecified:
      break;
  }
  switch (tags.environment) {
    case domain::Environment::kProduction:
      out->set_environment(v1::ENVIRONMENT_PRODUCTION);
      break;
    case domain::Environment::kStaging:
      out->set_environment(v1::ENVIRONMENT_STAGING);
      break;
    case domain::Environment::kEval:
      out->set_environment(v1::ENVIRONMENT_EVAL);
      break;
    case domain::Environment::kUnspecified:
      break;
  }
  out->set_tenant(tags.tenant);
  out->set_parent_run_id(tags.parent_run_id);
}

v1::StepKind ToProto(domain::StepKind kind) {
  switch (kind) {
    case domain::StepKind::kModelCall:
      return v1::STEP_KIND_MODEL_CALL;
    case domain::StepKind::kToolCall:
      return v1::STEP_KIND_TOOL_CALL;
    case domain::StepKind::kRetrieval:
      return v1::STEP_KIND_RETRIEVAL;
    case domain::StepKind::kEmbedding:
      return v1::STEP_KIND_EMBEDDING;
    case domain::StepKind::kRerank:
      return v1::STEP_KIND_RERANK;
    case domain::StepKind::kOther:
      break;
  }
  return v1::STEP_KIND_OTHER;
}

ConvertedStep FromWire(const v1::StepEvent& event) {
  ConvertedStep out;
  Convert(event, out.step, out.error);
  return out;
}

ConvertedStep FromWire(const internal::WireStepEvent& event) {
  ConvertedStep out;
  Convert(event, out.step, out.error);
  return out;
}

void FromWire(const v1::StepEvent& event, domain::Step& step,
              std::optional<domain::ingest::FieldError>& error) {
  Convert(event, step, error);
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  DeterministicBytes(message, bytes);
  return bytes;
}

void DeterministicBytes(const google::protobuf::Message& message, std::string& out) {
  // Sized first, then written in place: a growing output stream would reallocate and copy
  // the bytes several times per event.
  const size_t size = message.ByteSizeLong();
  out.resize(size);
  google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
}

std::string Sha256(std::string_view bytes) {
  // Fetched once: with OpenSSL 3, EVP_sha256() makes EVP_Digest look the algorithm up in the
  // provider registry on every call, which costs as much as hashing a small event.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, kSha256 != nullptr ? kSha256 : EVP_sha256(),
             nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string EventDigest(const v1::StepEvent& event) {
  std::string scratch;
  return EventDigest(event, scratch);
}

std::string EventDigest(const v1::StepEvent& event, std::string& scratch) {
  DeterministicBytes(event, scratch);
  return Sha256(scratch);
}

}  // namespace stepledger::transport
