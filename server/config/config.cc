#include "server/config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stepledger::config {
namespace {

struct FlagSpec {
  const char* name;
  const char* help;
  std::function<absl::Status(Config&, const std::string&)> set;
};

absl::Status SetInt(int& field, const std::string& flag, const std::string& value, int min) {
  int v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected an integer >= ", min, ", got \"", value, "\""));
  }
  field = v;
  return absl::OkStatus();
}

absl::Status SetBool(bool& field, const std::string& flag, const std::string& value) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "on" || v.empty()) {
    field = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    field = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected true or false, got \"", value, "\""));
  }
  return absl::OkStatus();
}

absl::Status SetDuration(absl::Duration& field, const std::string& flag, const std::string& value) {
  absl::Duration d;
  if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected a duration like 10s, got \"", value, "\""));
  }
  field = d;
  return absl::OkStatus();
}

absl::Status SetTimeOfDay(absl::Duration& field, const std::string& flag,
                          const std::string& value) {
  int h = -1, m = -1;
  const size_t colon = value.find(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(value.substr(0, colon), &h) ||
      !absl::SimpleAtoi(value.substr(colon + 1), &m) || h < 0 || h > 23 || m < 0 || m > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected a UTC time of day HH:MM, got \"", value, "\""));
  }
  field = absl::Hours(h) + absl::Minutes(m);
  return absl::OkStatus();
}

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> kFlags = {
      {"grpc-listen", "host:port for gRPC (default 127.0.0.1:50051)",
       [](Config& c, const std::string& v) {
         c.grpc_listen = v;
         return absl::OkStatus();
       }},
      {"metrics-listen", "host:port for Prometheus /metrics (default 127.0.0.1:9464)",
       [](Config& c, const std::string& v) {
         c.metrics_listen = v;
         return absl::OkStatus();
       }},
      {"otlp-http-listen",
       "host:port for OTLP/HTTP POST /v1/traces (default 127.0.0.1:4318; empty: off)",
       [](Config& c, const std::string& v) {
         c.otlp_http_listen = v;
         return absl::OkStatus();
       }},
      {"database-url", "PostgreSQL URL, e.g. postgresql://user@127.0.0.1:55432/stepledger",
       [](Config& c, const std::string& v) {
         c.database_url = v;
         return absl::OkStatus();
       }},
      {"migration-database-url",
       "PostgreSQL URL of the role that owns the schema, used only to migrate at start (default: "
       "--database-url); the collector then runs as --database-url's role, which needs no DDL "
       "right (docs/OPERATING.md, \"Database roles\")",
       [](Config& c, const std::string& v) {
         c.migration_database_url = v;
         return absl::OkStatus();
       }},
      {"migrate", "apply pending migrations at start (default true)",
       [](Config& c, const std::string& v) { return SetBool(c.migrate, "migrate", v); }},
      {"writers", "writer connections committing in parallel (default 2)",
       [](Config& c, const std::string& v) { return SetInt(c.writers, "writers", v, 1); }},
      {"max-group-events", "events per write transaction, at most (default 10000)",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_group_events, "max-group-events", v, 1);
       }},
      {"max-queued-events", "events waiting for COMMIT across streams (default 100000)",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_queued_events, "max-queued-events", v, 1);
       }},
      {"max-inflight-batches", "per stream, before reading pauses (default 16)",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_inflight_batches, "max-inflight-batches", v, 1);
       }},
      {"shutdown-grace", "how long streams may finish after SIGTERM (default 10s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.shutdown_grace, "shutdown-grace", v);
       }},
      {"startup-db-wait", "how long to wait for PostgreSQL at start (default 30s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.startup_db_wait, "startup-db-wait", v);
       }},
      {"database-liveness-timeout",
       "cut connections to a PostgreSQL server that leaves a probe unanswered this long "
       "(default 10s; 0: off)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.database_liveness_timeout, "database-liveness-timeout", v);
       }},
      {"pending-inheritance-wait", "how long a step waits for its run's root (default 15m)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.pending_inheritance_wait, "pending-inheritance-wait", v);
       }},
      {"budget-refresh-interval",
       "how often budgets and shared spend counters are re-read (default 1s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.budget_refresh_interval, "budget-refresh-interval", v);
       }},
      {"budget-full-counter-read-interval",
       "how often a refresh re-reads every spend counter, not only the changed ones "
       "(default 1m)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.budget_full_counter_read_interval,
                            "budget-full-counter-read-interval", v);
       }},
      {"budget-stale-after",
       "budget counters not read from the database for this long are stale: each cap's "
       "stale policy answers (default 5s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.budget_stale_after, "budget-stale-after", v);
       }},
      {"upkeep-interval", "how often scheduled upkeep runs (default 30s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.upkeep_interval, "upkeep-interval", v);
       }},
      {"ledger-retention-days",
       "days of raw ledger kept; older days are retired once rolled up, and older events are "
       "rejected (default 0: keep every day)",
       [](Config& c, const std::string& v) {
         return SetInt(c.ledger_retention_days, "ledger-retention-days", v, 0);
       }},
      {"ledger-retention-detach",
       "keep retired days as tables in schema ledger_archive instead of dropping them "
       "(default false)",
       [](Config& c, const std::string& v) {
         return SetBool(c.ledger_retention_detach, "ledger-retention-detach", v);
       }},
      {"rollup-schedule", "run the nightly rollup on this replica (default true)",
       [](Config& c, const std::string& v) {
         return SetBool(c.rollup_schedule, "rollup-schedule", v);
       }},
      {"rollup-time", "UTC time of day of the nightly rollup, HH:MM (default 00:30)",
       [](Config& c, const std::string& v) {
         return SetTimeOfDay(c.rollup_time, "rollup-time", v);
       }},
      {"rollup-days-back", "days the nightly rollup re-runs, ending yesterday (default 3)",
       [](Config& c, const std::string& v) {
         return SetInt(c.rollup_days_back, "rollup-days-back", v, 1);
       }},
      {"report-dir", "folder the nightly job writes showback reports to (default: none)",
       [](Config& c, const std::string& v) {
         c.report_dir = v;
         return absl::OkStatus();
       }},
      {"price-catalog",
       "LiteLLM JSON model price map, stored as a price version at start and on SIGHUP "
       "(default: none; steps without a reported cost then stay unpriced)",
       [](Config& c, const std::string& v) {
         c.price_catalog = v;
         return absl::OkStatus();
       }},
      {"tool-prices", "tool price file loaded with --price-catalog (default: none)",
       [](Config& c, const std::string& v) {
         c.tool_prices = v;
         return absl::OkStatus();
       }},
      {"metrics-label-limit",
       "distinct values per client-derived metric label before the rest fold into \"other\" "
       "(default 100)",
       [](Config& c, const std::string& v) {
         return SetInt(c.metrics_label_limit, "metrics-label-limit", v, 1);
       }},
      {"metrics-top-tenants",
       "tenants with their own spend series; the rest are \"other\" "
       "(default 50)",
       [](Config& c, const std::string& v) {
         return SetInt(c.metrics_top_tenants, "metrics-top-tenants", v, 0);
       }},
      {"metrics-top-caps",
       "caps with their own budget series, the largest spenders; the rest are summed into "
       "\"other\" (default 100)",
       [](Config& c, const std::string& v) {
         return SetInt(c.metrics_top_caps, "metrics-top-caps", v, 0);
       }},
      {"tls-cert",
       "PEM certificate chain gRPC is served with over TLS 1.2+ (re-read when it changes)",
       [](Config& c, const std::string& v) {
         c.tls_cert = v;
         return absl::OkStatus();
       }},
      {"tls-key", "PEM private key of --tls-cert",
       [](Config& c, const std::string& v) {
         c.tls_key = v;
         return absl::OkStatus();
       }},
      {"tls-client-ca",
       "PEM CA bundle: gRPC clients may present a certificate it signed (mTLS identity)",
       [](Config& c, const std::string& v) {
         c.tls_client_ca = v;
         return absl::OkStatus();
       }},
      {"tls-reload-interval",
       "how often the TLS files are checked for changes, besides SIGHUP; 0 = only on SIGHUP "
       "(default 2s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.tls_reload_interval, "tls-reload-interval", v);
       }},
      {"insecure", "serve gRPC and OTLP/HTTP in plaintext, on a loopback address only",
       [](Config& c, const std::string& v) { return SetBool(c.insecure, "insecure", v); }},
      {"allow-insecure-remote",
       "with --insecure: let --grpc-listen be a non-loopback address (default false)",
       [](Config& c, const std::string& v) {
         return SetBool(c.allow_insecure_remote, "allow-insecure-remote", v);
       }},
      {"insecure-no-auth",
       "with --insecure on loopback: no credentials, every caller is admin (tests only)",
       [](Config& c, const std::string& v) {
         return SetBool(c.insecure_no_auth, "insecure-no-auth", v);
       }},
      {"bootstrap-admin-key-file",
       "file holding the first admin API key, stored at a start that finds no key "
       "(or STEPLEDGER_BOOTSTRAP_ADMIN_KEY holds the key itself)",
       [](Config& c, const std::string& v) {
         c.bootstrap_admin_key_file = v;
         return absl::OkStatus();
       }},
      {"key-refresh-interval",
       "how often API keys are re-read: how long a revoked key still works (default 2s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.key_refresh_interval, "key-refresh-interval", v);
       }},
      {"allow-remote-metrics",
       "let --metrics-listen be a non-loopback address (it shows tenant and cap ids)",
       [](Config& c, const std::string& v) {
         return SetBool(c.allow_remote_metrics, "allow-remote-metrics", v);
       }},
      {"metrics-basic-auth-file",
       "file whose first line is user:password: /metrics asks for HTTP basic auth (default: "
       "none)",
       [](Config& c, const std::string& v) {
         c.metrics_basic_auth_file = v;
         return absl::OkStatus();
       }},
      {"max-receive-message-bytes",
       "largest gRPC message accepted, after decompression (default 16777216)",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_receive_message_bytes, "max-receive-message-bytes", v, 1024);
       }},
      {"max-concurrent-streams", "gRPC streams one connection may hold open (default 100)",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_concurrent_streams, "max-concurrent-streams", v, 1);
       }},
      {"keepalive-time", "ping a connection silent for this long (default 1m)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.keepalive_time, "keepalive-time", v);
       }},
      {"keepalive-timeout", "close a connection whose ping is not answered in this (default 20s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.keepalive_timeout, "keepalive-timeout", v);
       }},
      {"keepalive-min-ping-interval",
       "clients pinging more often are closed (GOAWAY too_many_pings) (default 10s)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.keepalive_min_ping_interval, "keepalive-min-ping-interval", v);
       }},
      {"keepalive-permit-without-calls",
       "accept client pings on a connection with no call open (default true)",
       [](Config& c, const std::string& v) {
         return SetBool(c.keepalive_permit_without_calls, "keepalive-permit-without-calls", v);
       }},
      {"max-connection-idle", "close a connection without a call for this long (default 15m)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.max_connection_idle, "max-connection-idle", v);
       }},
      {"max-connection-age",
       "ask connections older than this to reconnect; 0 = no limit (default 0)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.max_connection_age, "max-connection-age", v);
       }},
      {"max-connection-age-grace",
       "how long calls of a connection past its age may finish (default 5m)",
       [](Config& c, const std::string& v) {
         return SetDuration(c.max_connection_age_grace, "max-connection-age-grace", v);
       }},
      {"ingest-rate-limit",
       "events per second one credential may ingest; more gets RESOURCE_EXHAUSTED with a retry "
       "delay; 0 = no limit (default 0)",
       [](Config& c, const std::string& v) {
         return SetInt(c.ingest_rate_limit, "ingest-rate-limit", v, 0);
       }},
      {"ingest-burst",
       "events one credential may send at once above its rate (default max(2 x rate, 1000))",
       [](Config& c, const std::string& v) {
         return SetInt(c.ingest_burst, "ingest-burst", v, 0);
       }},
  };
  return kFlags;
}

// Flags that may stand alone (a boolean set to true, or --no-<flag> set to false).
bool IsBareFlag(const std::string& name) {
  return name == "migrate" || name == "insecure" || name == "allow-insecure-remote" ||
         name == "insecure-no-auth" || name == "allow-remote-metrics" ||
         name == "keepalive-permit-without-calls" || name.rfind("no-", 0) == 0;
}

// The transport rules of docs/SECURITY.md: TLS unless --insecure, plaintext only on loopback
// unless the louder --allow-insecure-remote, and --insecure-no-auth only with plaintext on
// loopback.
absl::Status CheckTransport(const Config& config) {
  const bool tls = !config.tls_cert.empty() || !config.tls_key.empty();
  if (tls && (config.tls_cert.empty() || config.tls_key.empty())) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!config.tls_client_ca.empty() && !tls) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (tls && config.insecure) {
    return absl::InvalidArgumentError("--insecure contradicts --tls-cert: choose one");
  }
  if (!tls && !config.insecure) {
    return absl::InvalidArgumentError(
        "gRPC needs TLS: give --tls-cert and --tls-key, or --insecure for plaintext on a "
        "loopback address");
  }
  if (config.allow_insecure_remote && !config.insecure) {
    return absl::InvalidArgumentError("--allow-insecure-remote only applies with --insecure");
  }
  if (config.insecure && !config.allow_insecure_remote) {
    for (const auto& [flag, listen] : {std::pair{"--grpc-listen", &config.grpc_listen},
                                       std::pair{"--otlp-http-listen", &config.otlp_http_listen}}) {
      if (listen->empty() || IsLoopbackListen(*listen)) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          flag, "=", *listen,
          " is not a loopback address, and with --insecure it is served in plaintext: anyone "
          "who can reach it could read the traffic and its API keys. Use --tls-cert and "
          "--tls-key, or pass --allow-insecure-remote as well to accept the risk"));
    }
  }
  // OTLP/HTTP has no TLS yet: its API keys would cross the network in the clear.
  if (!config.insecure && !config.otlp_http_listen.empty() &&
      !IsLoopbackListen(config.otlp_http_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--otlp-http-listen=", config.otlp_http_listen,
        " is not a loopback address, and OTLP/HTTP is served in plaintext (no TLS yet): keep it "
        "on loopback or turn it off (--otlp-http-listen=); OTLP/gRPC on --grpc-listen has TLS"));
  }
  if (config.insecure_no_auth && !(config.insecure && !config.allow_insecure_remote)) {
    return absl::InvalidArgumentError(
        "--insecure-no-auth is only accepted with --insecure on loopback addresses");
  }
  if (!config.metrics_listen.empty() && !IsLoopbackListen(config.metrics_listen) &&
      !config.allow_remote_metrics) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen=", config.metrics_listen,
                     " is not a loopback address; metrics name tenants and caps. Scrape through a "
                     "loopback or private listener, or pass --allow-remote-metrics"));
  }
  return absl::OkStatus();
}

std::string EnvName(const std::string& flag) {
  std::string name = "STEPLEDGER_" + absl::AsciiStrToUpper(flag);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

}  // namespace

std::string Usage() {
  std::string out =
      "usage: stepledger-collector [flags]\n\nflags (each also from the "
      "environment variable shown):\n";
  for (const FlagSpec& f : Flags()) {
    absl::StrAppend(&out, "  --", f.name, "  (", EnvName(f.name), ")\n      ", f.help, "\n");
  }
  return out;
}

absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args, const EnvLookup& env) {
  Config config;
  std::map<std::string, std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return absl::NotFoundError(Usage());
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string name = arg.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (IsBareFlag(name)) {
      if (name.rfind("no-", 0) == 0) {
        name = name.substr(3);
        value = "false";
      }
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
    }
    given[name] = value;
  }
  for (const FlagSpec& f : Flags()) {
    auto it = given.find(f.name);
    std::optional<std::string> value;
    if (it != given.end()) {
      value = it->second;
      given.erase(it);
    } else {
      value = env(EnvName(f.name));
    }
    if (value.has_value()) {
      if (absl::Status s = f.set(config, *value); !s.ok()) return s;
    }
  }
  if (!given.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag --", given.begin()->first, " (see --help)"));
  }
  if (!config.tool_prices.empty() && config.price_catalog.empty()) {
    return absl::InvalidArgumentError("--tool-prices needs --price-catalog");
  }
  // A limit at or under the refresh interval would call counters stale between two healthy
  // refreshes, and fail hard caps closed for no reason.
  if (config.budget_stale_after <= config.budget_refresh_interval) {
    return absl::InvalidArgumentError(
        absl::StrCat("--budget-stale-after (", absl::FormatDuration(config.budget_stale_after),
                     ") must be longer than --budget-refresh-interval (",
                     absl::FormatDuration(config.budget_refresh_interval), ")"));
  }
  if (absl::Status s = CheckTransport(config); !s.ok()) return s;
  if (std::optional<std::string> key = env("STEPLEDGER_BOOTSTRAP_ADMIN_KEY"); key.has_value()) {
    config.bootstrap_admin_key = *key;
  }
  if (config.database_url.empty()) {
    return absl::InvalidArgumentError("--database-url (or STEPLEDGER_DATABASE_URL) is required");
  }
  if (!config.migration_database_url.empty() && !config.migrate) {
    return absl::InvalidArgumentError(
        "--migration-database-url is only used to migrate: it cannot go with --no-migrate");
  }
  return config;
}

bool IsLoopbackListen(std::string_view host_port) {
  if (host_port.rfind("unix:", 0) == 0 || host_port.rfind("unix-abstract:", 0) == 0) {
    return true;
  }
  // The host is everything before the last colon, without IPv6 brackets.
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(host_port.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  }
  return false;  // "", "0.0.0.0"-like names, any other host name: not provably loopback
}

std::vector<std::string> Warnings(const Config& config) {
  std::vector<std::string> out;
  if (config.insecure && !IsLoopbackListen(config.grpc_listen)) {
    out.push_back(absl::StrCat(
        "INSECURE: gRPC listens on ", config.grpc_listen,
        " in plaintext (--insecure --allow-insecure-remote): anyone on the path can read the "
        "traffic and the API keys in it; serve TLS with --tls-cert and --tls-key"));
  }
  if (config.insecure_no_auth) {
    out.push_back(
        "NO AUTHENTICATION (--insecure-no-auth): every caller on this machine is an unrestricted "
        "admin");
  }
  return out;
}

}  // namespace stepledger::config
