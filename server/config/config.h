// Collector configuration: command-line flags, each also readable from an environment
// variable (STEPLEDGER_<FLAG_IN_CAPS>, dashes as underscores). A flag given on the command
// line wins over the environment. No globals: LoadConfig() returns a value.
#ifndef STEPLEDGER_SERVER_CONFIG_CONFIG_H_
#define STEPLEDGER_SERVER_CONFIG_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::config {

struct Config {
  std::string grpc_listen = "127.0.0.1:50051";
  std::string metrics_listen = "127.0.0.1:9464";
  // OTLP/HTTP POST /v1/traces (docs/OTLP.md); empty: not served.
  std::string otlp_http_listen = "127.0.0.1:4318";
  std::string database_url;
  // The schema owner's URL, used only for migrations; empty: database_url migrates too (one
  // role). With it, database_url's role needs only DML and EXECUTE (migration 0022).
  std::string migration_database_url;
  bool migrate = true;
  int writers = 2;                 // writer connections committing groups in parallel
  int max_group_events = 10000;    // events per transaction, at most
  int max_queued_events = 100000;  // memory bound of the write path
  int max_inflight_batches = 16;   // per stream, before reads pause
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration startup_db_wait = absl::Seconds(30);
  // A PostgreSQL server that leaves a probe `SELECT 1` unanswered this long is declared dead
  // and the collector's connections to it are cut, so they reconnect through the URL's host
  // list (docs/OPERATING.md, "PostgreSQL failover"). Zero: no watchdog.
  absl::Duration database_liveness_timeout = absl::Seconds(10);
  // A step waiting for its run's root becomes unattributed (root_never_arrived) after this.
  absl::Duration pending_inheritance_wait = absl::Minutes(15);
  // How often scheduled upkeep runs (pending expiry, run gauges).
  absl::Duration upkeep_interval = absl::Seconds(30);
  // Ledger retention (docs/OPERATING.md, "Retention"): with ledger_retention_days > 0, the raw
  // ledger of days older than that is retired once rolled up (rollups are kept), and ingest
  // rejects events older than it. 0 keeps every day (ingest then takes events up to 400 days
  // old). ledger_retention_detach keeps retired days as tables in schema ledger_archive.
  int ledger_retention_days = 0;
  bool ledger_retention_detach = false;
  // Nightly rollup (docs/REPORTS.md): at rollup_time (UTC) one replica, chosen by an advisory
  // lock, rolls up the last rollup_days_back days; with report_dir set it also writes the
  // month-to-date showback report there in every format.
  bool rollup_schedule = true;
  absl::Duration rollup_time = absl::Minutes(30);  // offset from 00:00 UTC
  int rollup_days_back = 3;
  std::string report_dir;
  // How often a replica re-reads caps, acknowledgements and the shared spend counters: the
  // bound on how stale another replica's spend can be in a budget check.
  absl::Duration budget_refresh_interval = absl::Seconds(1);
  // Between these, a refresh reads only the counters that changed since the last one.
  absl::Duration budget_full_counter_read_interval = absl::Minutes(1);
  // Counters not read from the database for longer than this are stale: each cap's stale
  // policy answers (docs/BUDGETS.md). Longer than the refresh interval; keep it equal on every
  // replica.
  absl::Duration budget_stale_after = absl::Seconds(5);
  // Price catalogs (docs/PRICING.md). Empty model path: no catalog is loaded (stored versions
  // still price); steps without a reported cost and no version in force stay unpriced.
  std::string price_catalog;  // LiteLLM JSON model price map
  std::string tool_prices;    // stepledger tool price file; "" = none
  // Metrics cardinality (docs/METRICS.md): distinct values per client-derived label (feature,
  // team, the feature/team pair, model, ...) before the rest fold into "other"; and the number
  // of tenants with their own spend series.
  int metrics_label_limit = 100;
  int metrics_top_tenants = 50;
  // Caps with their own per-cap budget series; the rest are summed into one "other" series.
  int metrics_top_caps = 100;
  // Transport security (docs/SECURITY.md). gRPC is served over TLS with these PEM files
  // (re-read on SIGHUP, and when they change: tls_reload_interval, 0 = only on SIGHUP);
  // tls_client_ca also asks clients for a
  // certificate signed by that CA (mTLS: the certificate's subject can be a credential).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  absl::Duration tls_reload_interval = absl::Seconds(2);
  // Plaintext gRPC and OTLP/HTTP, only when asked for, and then only on a loopback address
  // unless allow_insecure_remote (louder) is also set; both are warned about at every start.
  bool insecure = false;
  bool allow_insecure_remote = false;
  // With insecure on loopback only: every caller is an unrestricted admin. For test harnesses
  // that do not present credentials yet; warned about at every start.
  bool insecure_no_auth = false;
  // First admin key (docs/SECURITY.md, "Bootstrap"): stored (as a hash) at a start that finds
  // no key at all. From the file, or from STEPLEDGER_BOOTSTRAP_ADMIN_KEY (never a flag: argv is
  // readable by every local user).
  std::string bootstrap_admin_key_file;
  std::string bootstrap_admin_key;
  // How often a replica re-reads the keys: the bound on how long a revoked key still works.
  absl::Duration key_refresh_interval = absl::Seconds(2);
  // Whether the metrics listener may be a non-loopback address (it shows tenant and cap ids).
  bool allow_remote_metrics = false;
  // /metrics with HTTP basic auth: a file whose first line is "user:password"; "" = off
  // (docs/SECURITY.md, "Metrics").
  std::string metrics_basic_auth_file;
  // gRPC server limits (docs/OPERATING.md, "gRPC limits"): what one client or connection may
  // hold. A message is measured after decompression.
  int max_receive_message_bytes = 16 * 1024 * 1024;
  int max_concurrent_streams = 100;  // HTTP/2 streams per connection
  // The collector pings a connection silent for keepalive_time and closes it when the ping is
  // not answered within keepalive_timeout (a vanished client's streams are freed).
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Client pings more often than this (or, unless permitted, without a call open) are a
  // strike; too many and the connection is closed (GOAWAY too_many_pings).
  absl::Duration keepalive_min_ping_interval = absl::Seconds(10);
  bool keepalive_permit_without_calls = true;
  // A connection without a call for this long is closed gracefully (clients reconnect).
  absl::Duration max_connection_idle = absl::Minutes(15);
  // A connection older than this is asked to go away; its calls get max_connection_age_grace
  // to finish. Zero: no age limit (streams may live as long as their clients).
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Minutes(5);
  // Ingest rate limit per credential (docs/SECURITY.md, "Ingest rate limit"): events per second
  // over StreamSteps and OTLP, with a burst; 0 = no limit. A burst of 0 means
  // max(2 x rate, 1000).
  int ingest_rate_limit = 0;
  int ingest_burst = 0;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Parses argv (argv[0] skipped). Returns InvalidArgument naming the flag on bad input;
// NotFound with the usage text when --help was asked for.
absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args, const EnvLookup& env);

std::string Usage();

// Whether a listen address accepts connections from this machine only: 127.0.0.0/8, ::1 (also
// written [::1]), localhost, or a unix: socket. "0.0.0.0", "[::]", ":port", any other name or
// address are not loopback.
bool IsLoopbackListen(std::string_view host_port);

// What the operator must hear at start about a loaded config (one line each), e.g. that gRPC
// is plaintext, or that authentication is off.
std::vector<std::string> Warnings(const Config& config);

}  // namespace stepledger::config

#endif  // STEPLEDGER_SERVER_CONFIG_CONFIG_H_
