// gRPC Keys service (proto/stepledger/v1/keys.proto): convert, authorize, call KeyAdmin on a
// pool the caller owns (the changes are PostgreSQL transactions), convert, finish.
// RESOURCE_EXHAUSTED when the pool's queue is full.
//
// Lifetime: `keys`, `authorizer` and `pool` outlive the service; shut the server down first.
#ifndef STEPLEDGER_SERVER_TRANSPORT_KEYS_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_KEYS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>

#include "server/security/key_admin.h"
#include "server/transport/authorizer.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/keys.grpc.pb.h"

namespace stepledger::transport {

class KeysService final : public v1::Keys::CallbackService {
 public:
  KeysService(security::KeyAdmin& keys, const Authorizer& authorizer, WorkPool& pool);

  grpc::ServerUnaryReactor* CreateKey(grpc::CallbackServerContext* context,
                                      const v1::CreateKeyRequest* request,
                                      v1::CreateKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListKeys(grpc::CallbackServerContext* context,
                                     const v1::ListKeysRequest* request,
                                     v1::ListKeysResponse* response) override;
  grpc::ServerUnaryReactor* RotateKey(grpc::CallbackServerContext* context,
                                      const v1::RotateKeyRequest* request,
                                      v1::CreateKeyResponse* response) override;
  grpc::ServerUnaryReactor* RevokeKey(grpc::CallbackServerContext* context,
                                      const v1::RevokeKeyRequest* request,
                                      v1::KeyInfo* response) override;

 private:
  grpc::ServerUnaryReactor* OnPool(
      grpc::CallbackServerContext* context, std::string_view method,
      std::function<absl::Status(const domain::auth::Principal&)> work);

  security::KeyAdmin& keys_;
  const Authorizer& authorizer_;
  WorkPool& pool_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_KEYS_SERVICE_H_
