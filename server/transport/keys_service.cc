#include "server/transport/keys_service.h"

#include <google/protobuf/util/time_util.h>

#include "server/domain/auth/method_policy.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {
namespace {

namespace method = domain::auth::method;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t micros = absl::ToUnixMicros(t);
  out.set_seconds(micros / 1000000);
  out.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return out;
}

void ToProto(const domain::auth::KeyRecord& key, absl::Time now, v1::KeyInfo* out) {
  out->set_id(key.id);
  out->set_name(key.name);
  for (const auto& r : key.roles) out->add_roles(r);
  for (const auto& s : key.scopes) out->add_scopes(s);
  out->set_cert_subject(key.cert_subject);
  *out->mutable_created_at() = ToTimestamp(key.created_at);
  out->set_created_by(key.created_by);
  if (key.expires_at.has_value()) *out->mutable_expires_at() = ToTimestamp(*key.expires_at);
  if (key.revoked_at.has_value()) *out->mutable_revoked_at() = ToTimestamp(*key.revoked_at);
  out->set_revoked_by(key.revoked_by);
  out->set_replaces(key.replaces);
  out->set_note(key.note);
  out->set_active(key.ActiveAt(now));
  if (key.ingest_rate.has_value()) out->set_ingest_rate(*key.ingest_rate);
}

}  // namespace

KeysService::KeysService(security::KeyAdmin& keys, const Authorizer& authorizer, WorkPool& pool)
    : keys_(keys), authorizer_(authorizer), pool_(pool) {}

grpc::ServerUnaryReactor* KeysService::OnPool(
    grpc::CallbackServerContext* context, std::string_view method,
    std::function<absl::Status(const domain::auth::Principal&)> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> principal = authorizer_.Authorize(*context, method);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  if (!pool_.TrySchedule([reactor, work = std::move(work), p = *std::move(principal)] {
        reactor->Finish(ToGrpcStatus(work(*p)));
      })) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many key calls queued; retry"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* KeysService::CreateKey(grpc::CallbackServerContext* context,
                                                 const v1::CreateKeyRequest* request,
                                                 v1::CreateKeyResponse* response) {
  return OnPool(
      context, method::kCreateKey, [this, request, response](const domain::auth::Principal& actor) {
        security::NewKey key{.name = request->name(),
                             .roles = {request->roles().begin(), request->roles().end()},
                             .scopes = {request->scopes().begin(), request->scopes().end()},
                             .cert_subject = request->cert_subject(),
                             .note = request->note()};
        if (request->has_ingest_rate()) key.ingest_rate = request->ingest_rate();
        if (request->has_expires_at()) {
          key.expires_at = absl::FromUnixSeconds(request->expires_at().seconds()) +
                           absl::Nanoseconds(request->expires_at().nanos());
        }
        absl::StatusOr<security::CreatedKey> created = keys_.Create(key, actor);
        if (!created.ok()) return created.status();
        ToProto(created->record, absl::Now(), response->mutable_key());
        response->set_token(created->token);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* KeysService::ListKeys(grpc::CallbackServerContext* context,
                                                const v1::ListKeysRequest* request,
                                                v1::ListKeysResponse* response) {
  return OnPool(context, method::kListKeys, [this, response](const domain::auth::Principal&) {
    absl::StatusOr<std::vector<domain::auth::KeyRecord>> keys = keys_.List();
    if (!keys.ok()) return keys.status();
    const absl::Time now = absl::Now();
    for (const auto& key : *keys) ToProto(key, now, response->add_keys());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* KeysService::RotateKey(grpc::CallbackServerContext* context,
                                                 const v1::RotateKeyRequest* request,
                                                 v1::CreateKeyResponse* response) {
  return OnPool(
      context, method::kRotateKey, [this, request, response](const domain::auth::Principal& actor) {
        absl::StatusOr<security::CreatedKey> created = keys_.Rotate(
            request->id(), absl::Seconds(request->grace_seconds()), request->note(), actor);
        if (!created.ok()) return created.status();
        ToProto(created->record, absl::Now(), response->mutable_key());
        response->set_token(created->token);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* KeysService::RevokeKey(grpc::CallbackServerContext* context,
                                                 const v1::RevokeKeyRequest* request,
                                                 v1::KeyInfo* response) {
  return OnPool(context, method::kRevokeKey,
                [this, request, response](const domain::auth::Principal& actor) {
                  absl::StatusOr<domain::auth::KeyRecord> revoked =
                      keys_.Revoke(request->id(), request->note(), actor);
                  if (!revoked.ok()) return revoked.status();
                  ToProto(*revoked, absl::Now(), response);
                  return absl::OkStatus();
                });
}

}  // namespace stepledger::transport
