#include "server/storage/pg_connection.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/storage/pg_liveness.h"

namespace stepledger::storage {
namespace {

// The options libpq parsed from `url`, only those the string set; false when
// libpq cannot parse it.
bool ParseOptions(const std::string& url, std::vector<std::pair<std::string, std::string>>* out) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return false;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out->emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return true;
}

// keyword='value' with \ and ' escaped, as libpq's keyword/value syntax wants.
std::string Render(const std::vector<std::pair<std::string, std::string>>& options) {
  std::string out;
  for (const auto& [key, value] : options) {
    absl::StrAppend(&out, out.empty() ? "" : " ", key, "='");
    for (char c : value) {
      if (c == '\\' || c == '\'') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('\'');
  }
  return out;
}

void SetIfUnset(std::vector<std::pair<std::string, std::string>>& options, const char* key,
                const char* value) {
  for (const auto& [k, v] : options) {
    if (k == key) return;
  }
  options.emplace_back(key, value);
}

}  // namespace

std::string ConnectionStringWithDefaults(const std::string& url) {
  std::vector<std::pair<std::string, std::string>> options;
  if (!ParseOptions(url, &options)) return url;
  SetIfUnset(options, "connect_timeout", kDefaultConnectTimeoutSeconds);
  SetIfUnset(options, "keepalives", "1");
  SetIfUnset(options, "keepalives_idle", kDefaultKeepalivesIdleSeconds);
  SetIfUnset(options, "keepalives_interval", kDefaultKeepalivesIntervalSeconds);
  SetIfUnset(options, "keepalives_count", kDefaultKeepalivesCount);
  SetIfUnset(options, "tcp_user_timeout", kDefaultTcpUserTimeoutMillis);
  SetIfUnset(options, "fallback_application_name", "stepledger-collector");
  return Render(options);
}

std::string ConnectionStringForServer(const std::string& url, const std::string& host,
                                      const std::string& port) {
  std::vector<std::pair<std::string, std::string>> parsed;
  if (!ParseOptions(ConnectionStringWithDefaults(url), &parsed)) return url;
  std::vector<std::pair<std::string, std::string>> options;
  for (auto& [key, value] : parsed) {
    if (key == "host" || key == "hostaddr" || key == "port" || key == "target_session_attrs") {
      continue;
    }
    options.emplace_back(std::move(key), std::move(value));
  }
  options.emplace_back("host", host);
  options.emplace_back("port", port);
  return Render(options);
}

PgConnection::PgConnection(const std::string& url, std::string_view purpose)
    : pqxx::connection(ConnectionStringWithDefaults(url)) {
  // Reconnecting is the owner's job (a new PgConnection re-reads the host list and registers
  // its socket); libpqxx reconnecting underneath would leave the registry a stale socket.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  inhibit_reactivation(true);
#pragma GCC diagnostic pop
  const std::string host = hostname() != nullptr ? hostname() : "";
  const std::string port_number = port() != nullptr ? port() : "";
  server_ = absl::StrCat(host, ":", port_number);
  ConnectionRegistry& registry = ConnectionRegistry::Global();
  registration_ =
      registry.Add(dup(sock()), server_, ConnectionStringForServer(url, host, port_number));
  std::string previous;
  const bool changed = registry.ServerChanged(server_, &previous);
  if (changed || !purpose.empty()) {
    log::Info("database connected", {{"server", server_},
                                     {"purpose", purpose.empty() ? "-" : std::string(purpose)},
                                     {"previous_server", previous.empty() ? "-" : previous}});
  }
}

PgConnection::~PgConnection() { ConnectionRegistry::Global().Remove(registration_); }

}  // namespace stepledger::storage
