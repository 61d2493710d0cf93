// OTLP/HTTP `POST /v1/traces` on its own port (--otlp-http-listen), served by civetweb (the
// Debian-packaged embeddable HTTP server that prometheus-cpp's exposer already brings in):
// civetweb parses HTTP/1.1, keep-alive and chunked bodies; otlp_http.h reads and renders OTLP;
// OtlpIngest stores, exactly as for OTLP/gRPC.
//
// Threads: civetweb serves each connection on one of `threads` worker threads it owns; a worker
// reads the body, hands decoding and submission to a pool of `threads` threads of our own (full
// stacks: civetweb's are small, and protobuf's parsers recurse), and waits for its request's
// commit before answering (OTLP/HTTP answers after the data is durable),
// so at most `threads` requests are in flight; further connections queue in civetweb. No gRPC
// thread is involved. A request whose commit has not completed after `commit_timeout` is
// answered 503 with Retry-After (its steps may still commit; a retry is then a duplicate).
//
// Lifetime: Start() once; the destructor stops civetweb and joins its workers, so destroy this
// object before `ingest`'s IngestService and GroupCommitter.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_SERVER_H_
#define STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_SERVER_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/transport/authorizer.h"
#include "server/transport/otlp_ingest.h"
#include "server/transport/work_pool.h"

struct mg_context;
struct mg_connection;

namespace stepledger::transport {

class OtlpHttpServer {
 public:
  struct Options {
    int threads = 8;
    size_t max_body_bytes = 16 * 1024 * 1024;  // after gzip decompression too
    absl::Duration retry_after = absl::Seconds(1);
    absl::Duration commit_timeout = absl::Seconds(60);
  };

  // REQUIRES: `ingest` outlives this object.
  // Every request needs an `Authorization: Bearer <key>` header of a credential allowed to
  // export traces (401 without a valid one, 403 without the role; docs/SECURITY.md).
  OtlpHttpServer(OtlpIngest& ingest, const Authorizer& authorizer, Options options);
  ~OtlpHttpServer();
  OtlpHttpServer(const OtlpHttpServer&) = delete;
  OtlpHttpServer& operator=(const OtlpHttpServer&) = delete;

  // Listens on `listen` ("host:port"; port 0 picks one). Returns the port.
  absl::StatusOr<int> Start(const std::string& listen);

 private:
  static int HandleTraces(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);

  OtlpIngest& ingest_;
  const Authorizer& authorizer_;
  const Options options_;
  // Decodes bodies on threads with full stacks (civetweb's have 100 KiB-class stacks).
  WorkPool parse_pool_;
  mg_context* ctx_ = nullptr;  // last: stopped first, while the pool is alive
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_SERVER_H_
