#include "client/cli/keys_command.h"

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <optional>

#include "absl/strings/str_join.h"
#include "client/cli/flags.h"
#include "client/lib/step_stream_client.h"
#include "stepledger/v1/keys.grpc.pb.h"

namespace stepledger::client {
namespace {

constexpr char kUsage[] =
    "usage: stepledger keys create --name N --role R [--role R2] --scope S [--scope S2]\n"
    "                          [--expires TIME] [--cert-subject SUBJECT] [--note TEXT]\n"
    "                          [--ingest-rate EVENTS_PER_SECOND]\n"
    "                          [--token-file PATH]\n"
    "       stepledger keys list\n"
    "       stepledger keys rotate ID [--grace DURATION] [--note TEXT] [--token-file PATH]\n"
    "       stepledger keys revoke ID [--note TEXT]\n"
    "roles: ingest check acknowledge budget-admin report-read price-admin admin\n"
    "scopes: \"*\", team:NAME, feature:NAME, tenant:NAME (docs/SECURITY.md)\n"
    "The new key is printed once (or written to --token-file, mode 0600); the collector keeps\n"
    "only its hash. Needs STEPLEDGER_API_KEY of an admin key with the \"*\" scope.\n";

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::string Line(const v1::KeyInfo& k) {
  std::string state = k.active() ? "active" : (k.has_revoked_at() ? "revoked" : "expired");
  std::string line = k.id() + "  " + k.name() + "  " + state +
                     "  roles=" + absl::StrJoin(k.roles(), ",") +
                     "  scopes=" + absl::StrJoin(k.scopes(), ",");
  if (!k.cert_subject().empty()) line += "  cert=" + k.cert_subject();
  if (k.has_ingest_rate()) line += "  ingest_rate=" + std::to_string(k.ingest_rate()) + "/s";
  if (k.has_expires_at())
    line += "  expires=" + TimeText(absl::FromUnixSeconds(k.expires_at().seconds()));
  line += "  created_by=" + k.created_by();
  if (!k.revoked_by().empty()) line += "  revoked_by=" + k.revoked_by();
  if (!k.replaces().empty()) line += "  replaces=" + k.replaces();
  return line;
}

// Prints the new key's token, or writes it to `token_file` readable by its owner only.
int ShowToken(const CliContext& context, const v1::CreateKeyResponse& created,
              const std::string& token_file) {
  context.out << Line(created.key()) << "\n";
  if (created.token().empty()) return kExitOk;  // a certificate identity
  if (token_file.empty()) {
    context.out << "key (shown once, store it now): " << created.token() << "\n";
    return kExitOk;
  }
  const mode_t old_mask = umask(077);
  std::ofstream out(token_file, std::ios::trunc);
  umask(old_mask);
  out << created.token() << "\n";
  if (!out) {
    context.err << "stepledger keys: cannot write " << token_file
                << "; the key was created: revoke " << created.key().id() << "\n";
    return kExitCantCreate;
  }
  context.out << "key written to " << token_file << "\n";
  return kExitOk;
}

}  // namespace

int RunKeysCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? context.err : context.out) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  auto stub = v1::Keys::NewStub(MakeCollectorChannel(context.target));
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  CLI::App app("stepledger keys " + sub, "stepledger keys " + sub);
  std::string note, token_file;
  app.add_option("--note", note, "why (kept in the key audit)");
  if (sub == "create") {
    v1::CreateKeyRequest request;
    std::string name, subject, expires;
    std::vector<std::string> roles, scopes;
    std::optional<int64_t> ingest_rate;
    app.add_option("--name", name, "who or what holds the key")->required();
    app.add_option("--role", roles, "a role (repeatable)")->required();
    app.add_option("--scope", scopes, "a scope (repeatable)")->required();
    app.add_option("--cert-subject", subject, "a client certificate subject instead of a key");
    app.add_option("--expires", expires, "when the key stops working (RFC 3339 or -/+DURATION)");
    app.add_option("--token-file", token_file, "write the key to this file (mode 0600)");
    app.add_option("--ingest-rate", ingest_rate,
                   "events per second this key may ingest, instead of the collector's "
                   "--ingest-rate-limit (kept by rotate)");
    if (std::optional<int> exit = ParseFlags(app, rest, context)) return *exit;
    request.set_name(name);
    if (ingest_rate.has_value()) request.set_ingest_rate(*ingest_rate);
    for (const auto& r : roles) request.add_roles(r);
    for (const auto& s : scopes) request.add_scopes(s);
    request.set_cert_subject(subject);
    request.set_note(note);
    if (!expires.empty()) {
      absl::StatusOr<absl::Time> t = ParseTimeArg("--expires", expires, absl::Now());
      if (!t.ok()) {
        context.err << "stepledger keys create: " << t.status().message() << "\n";
        return kExitUsage;
      }
      request.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(*t));
    }
    v1::CreateKeyResponse created;
    grpc::Status s = stub->CreateKey(&rpc, request, &created);
    if (!s.ok()) return RpcFailure(context, "stepledger keys create", FromGrpc(s));
    return ShowToken(context, created, token_file);
  }
  if (sub == "list") {
    if (std::optional<int> exit = ParseFlags(app, rest, context)) return *exit;
    v1::ListKeysResponse listed;
    grpc::Status s = stub->ListKeys(&rpc, v1::ListKeysRequest(), &listed);
    if (!s.ok()) return RpcFailure(context, "stepledger keys list", FromGrpc(s));
    for (const v1::KeyInfo& k : listed.keys()) context.out << Line(k) << "\n";
    return kExitOk;
  }
  if (sub == "rotate" || sub == "revoke") {
    std::string id, grace = "0s";
    app.add_option("id", id, "the key's id")->required();
    if (sub == "rotate") {
      app.add_option("--grace", grace, "how long the old key keeps working (default 0s)");
      app.add_option("--token-file", token_file, "write the new key to this file (mode 0600)");
    }
    if (std::optional<int> exit = ParseFlags(app, rest, context)) return *exit;
    if (sub == "revoke") {
      v1::RevokeKeyRequest request;
      request.set_id(id);
      request.set_note(note);
      v1::KeyInfo revoked;
      grpc::Status s = stub->RevokeKey(&rpc, request, &revoked);
      if (!s.ok()) return RpcFailure(context, "stepledger keys revoke", FromGrpc(s));
      context.out << Line(revoked) << "\n";
      return kExitOk;
    }
    absl::Duration grace_duration;
    if (!absl::ParseDuration(grace, &grace_duration) || grace_duration < absl::ZeroDuration()) {
      context.err << "stepledger keys rotate: --grace: expected a duration like 1h, got \"" << grace
                  << "\"\n";
      return kExitUsage;
    }
    v1::RotateKeyRequest request;
    request.set_id(id);
    request.set_grace_seconds(absl::ToInt64Seconds(grace_duration));
    request.set_note(note);
    v1::CreateKeyResponse created;
    grpc::Status s = stub->RotateKey(&rpc, request, &created);
    if (!s.ok()) return RpcFailure(context, "stepledger keys rotate", FromGrpc(s));
    return ShowToken(context, created, token_file);
  }
  context.err << "stepledger keys: unknown subcommand \"" << sub << "\"\n" << kUsage;
  return kExitUsage;
}

}  // namespace stepledger::client
