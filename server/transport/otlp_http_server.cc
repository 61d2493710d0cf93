#include "server/transport/otlp_http_server.h"

#include <civetweb.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/domain/auth/method_policy.h"
#include "server/transport/otlp_http.h"

namespace stepledger::transport {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

int Send(mg_connection* conn, const OtlpHttpResponse& r) {
  std::string head = absl::StrCat("HTTP/1.1 ", r.status, " ", Reason(r.status),
                                  "\r\nContent-Type: ", r.content_type,
                                  "\r\nContent-Length: ", r.body.size(), "\r\n");
  for (const auto& [name, value] : r.headers) absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  mg_write(conn, r.body.data(), r.body.size());
  return r.status;
}

// One request's wait for its commit; shared with the completion, which may outlive a timeout.
struct Pending {
  absl::Notification done;
  OtlpHttpResponse response;  // written once, before done is notified
};

}  // namespace

OtlpHttpServer::OtlpHttpServer(OtlpIngest& ingest, const Authorizer& authorizer, Options options)
    : ingest_(ingest),
      authorizer_(authorizer),
      options_(options),
      parse_pool_(options.threads, options.threads * 2) {}

OtlpHttpServer::~OtlpHttpServer() {
  // Workers first (each waits for its request's completion), then the pool (parse_pool_'s
  // destructor runs any queued task).
  if (ctx_ != nullptr) mg_stop(ctx_);
}

absl::StatusOr<int> OtlpHttpServer::Start(const std::string& listen) {
  const std::string threads = absl::StrCat(options_.threads);
  const char* civet_options[] = {"listening_ports",
                                 listen.c_str(),
                                 "num_threads",
                                 threads.c_str(),
                                 "enable_keep_alive",
                                 "yes",
                                 "request_timeout_ms",
                                 "30000",
                                 nullptr};
  mg_callbacks callbacks{};
  ctx_ = mg_start(&callbacks, nullptr, civet_options);
  if (ctx_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen for OTLP/HTTP on ", listen));
  }
  mg_set_request_handler(ctx_, "/v1/traces$", &OtlpHttpServer::HandleTraces, this);
  mg_server_port ports[4] = {};
  const int n = mg_get_server_ports(ctx_, 4, ports);
  if (n < 1) return absl::InternalError("OTLP/HTTP: no listening port");
  return ports[0].port;
}

int OtlpHttpServer::HandleTraces(mg_connection* conn, void* self) {
  return static_cast<OtlpHttpServer*>(self)->Handle(conn);
}

int OtlpHttpServer::Handle(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* content_type = mg_get_header(conn, "Content-Type");
  absl::StatusOr<OtlpEncoding> encoding =
      OtlpEncodingOf(content_type == nullptr ? "" : content_type);
  const OtlpEncoding reply = encoding.ok() ? *encoding : OtlpEncoding::kProtobuf;
  if (std::string_view(info->request_method) != "POST") {
    return Send(conn, OtlpHttpError(405, "only POST is supported on /v1/traces", reply));
  }
  const char* authorization = mg_get_header(conn, "Authorization");
  absl::StatusOr<PrincipalPtr> caller = authorizer_.AuthorizeHeader(
      authorization == nullptr ? "" : authorization, domain::auth::method::kOtlpExport);
  if (!caller.ok()) {
    const int status = absl::IsUnauthenticated(caller.status()) ? 401 : 403;
    return Send(conn, OtlpHttpError(status, caller.status().message(), reply));
  }
  if (!encoding.ok()) return Send(conn, OtlpHttpError(415, encoding.status().message(), reply));
  if (info->content_length > static_cast<long long>(options_.max_body_bytes)) {
    return Send(conn, OtlpHttpError(413, "body too large", reply));
  }
  // Read to the end (civetweb decodes a chunked body), never more than the bound.
  // civetweb's worker threads have small stacks (Debian builds it with 100 KiB): buffers go on
  // the heap.
  std::string body;
  std::vector<char> buf(64 * 1024);
  while (true) {
    const int n = mg_read(conn, buf.data(), buf.size());
    if (n < 0) return Send(conn, OtlpHttpError(400, "error reading the body", reply));
    if (n == 0) break;
    body.append(buf.data(), static_cast<size_t>(n));
    if (body.size() > options_.max_body_bytes) {
      return Send(conn, OtlpHttpError(413, "body too large", reply));
    }
  }
  const char* content_encoding = mg_get_header(conn, "Content-Encoding");
  // Decoding (gzip, protobuf, JSON parsers) runs on the parse pool's threads, which have full
  // stacks; this worker only waits. The pool task returns once the steps are submitted.
  auto pending = std::make_shared<Pending>();
  const OtlpEncoding encoding_value = *encoding;
  const bool scheduled = parse_pool_.TrySchedule(
      [this, pending, encoding_value, reply, body = std::move(body), caller = *std::move(caller),
       content_encoding = std::string(content_encoding == nullptr ? "" : content_encoding)] {
        auto request =
            ParseOtlpHttpBody(encoding_value, content_encoding, body, options_.max_body_bytes);
        if (!request.ok()) {
          const int status = absl::IsResourceExhausted(request.status()) ? 413 : 400;
          pending->response = OtlpHttpError(status, request.status().message(), reply);
          pending->done.Notify();
          return;
        }
        ingest_.Export(*request, *caller, [this, pending, reply](OtlpExportOutcome outcome) {
          pending->response = RenderOtlpHttpOutcome(outcome, reply, options_.retry_after);
          pending->done.Notify();
        });
      });
  if (!scheduled) {
    OtlpHttpResponse r = OtlpHttpError(503, "too many OTLP/HTTP requests waiting; retry", reply);
    r.headers.emplace_back("Retry-After", absl::StrCat(absl::ToInt64Seconds(options_.retry_after)));
    return Send(conn, r);
  }
  if (!pending->done.WaitForNotificationWithTimeout(options_.commit_timeout)) {
    OtlpHttpResponse r = OtlpHttpError(503, "commit still in progress; retry", reply);
    r.headers.emplace_back("Retry-After", absl::StrCat(absl::ToInt64Seconds(options_.retry_after)));
    return Send(conn, r);
  }
  return Send(conn, pending->response);
}

}  // namespace stepledger::transport
