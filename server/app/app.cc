#include "server/app/app.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "server/app/admin_backend.h"
#include "server/app/admin_operations.h"
#include "server/app/catalog_pricer.h"
#include "server/app/commit_log_observer.h"
#include "server/app/grpc_limits.h"
#include "server/app/health_monitor.h"
#include "server/app/ledger_upkeep.h"
#include "server/app/nightly_rollup.h"
#include "server/app/periodic_task.h"
#include "server/app/price_catalog_reloader.h"
#include "server/app/tls_reloader.h"
#include "server/common/log.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/cap_governance.h"
#include "server/domain/budget/engine.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/domain/runs/run_query.h"
#include "server/metrics/budget_metrics.h"
#include "server/metrics/ingest_metrics.h"
#include "server/metrics/label_guard.h"
#include "server/metrics/metrics_registry.h"
#include "server/metrics/pricing_metrics.h"
#include "server/metrics/retention_metrics.h"
#include "server/metrics/run_metrics.h"
#include "server/metrics/spend_metrics.h"
#include "server/security/key_admin.h"
#include "server/security/key_ring.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_budget_store.h"
#include "server/storage/pg_cap_change_store.h"
#include "server/storage/pg_health.h"
#include "server/storage/pg_key_store.h"
#include "server/storage/pg_ledger_store.h"
#include "server/storage/pg_liveness.h"
#include "server/storage/pg_price_store.h"
#include "server/storage/pg_reservation_store.h"
#include "server/storage/pg_run_repository.h"
#include "server/transport/admin_service.h"
#include "server/transport/authorizer.h"
#include "server/transport/budget_service.h"
#include "server/transport/collector_service.h"
#include "server/transport/keys_service.h"
#include "server/transport/otlp_http_server.h"
#include "server/transport/otlp_trace_service.h"
#include "server/transport/reports_service.h"
#include "server/transport/server_credentials.h"
#include "server/transport/server_reflection.h"

namespace stepledger::app {
namespace {

// Bounds that keep one client's input or pace from costing the others (docs/RELIABILITY.md;
// the configurable ones are in grpc_limits.h).
// gRPC's own buffers over all connections; past it gRPC shrinks windows and refuses reads.
constexpr size_t kGrpcMemoryBytes = size_t{128} * 1024 * 1024;
// What a quarantine row keeps of one event (transport/quarantine_json.h).
constexpr size_t kMaxQuarantineEventBytes = 16 * 1024;
// Undelivered acks over all streams (transport/ack_memory.h).
constexpr int64_t kMaxUnsentAckBytes = 64 * 1024 * 1024;

constexpr int kPartitionDaysAhead = 3;

// Waits for PostgreSQL at start: a collector started together with its database should not
// fail just because the database is a second slower.
absl::Status MigrateWithRetry(const config::Config& config) {
  const absl::Time deadline = absl::Now() + config.startup_db_wait;
  while (true) {
    // The owner's URL when one is given: the runtime role may not run DDL.
    absl::StatusOr<storage::MigrationReport> report = storage::ApplyMigrations(
        config.migration_database_url.empty() ? config.database_url
                                              : config.migration_database_url);
    if (report.ok()) {
      std::string applied;
      for (const auto& name : report->applied)
        absl::StrAppend(&applied, applied.empty() ? "" : ",", name);
      log::Info("migrations", {{"applied", applied.empty() ? "none" : applied},
                               {"already_applied", absl::StrCat(report->already_applied)}});
      return absl::OkStatus();
    }
    if (!absl::IsUnavailable(report.status()) || absl::Now() > deadline) return report.status();
    log::Warn("database not reachable yet; retrying",
              {{"error", std::string(report.status().message())}});
    absl::SleepFor(absl::Seconds(1));
  }
}

// The first admin key (docs/SECURITY.md, "Bootstrap"): stored only when no key is stored.
absl::Status BootstrapAdminKey(const config::Config& config, security::KeyAdmin& keys) {
  std::string token = config.bootstrap_admin_key;
  if (!config.bootstrap_admin_key_file.empty()) {
    std::ifstream in(config.bootstrap_admin_key_file);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--bootstrap-admin-key-file=", config.bootstrap_admin_key_file, ": cannot read"));
    }
    std::getline(in, token);
  }
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) return absl::OkStatus();
  absl::StatusOr<bool> stored = keys.Bootstrap(token);
  if (!stored.ok()) return stored.status();
  log::Info(*stored ? "bootstrap admin key stored (no key existed)"
                    : "bootstrap admin key ignored: keys are already stored");
  return absl::OkStatus();
}

// /metrics (docs/SECURITY.md, "Metrics"). Errors name the file, never its content.
absl::StatusOr<metrics::MetricsEndpoint> MetricsEndpointOf(const config::Config& config) {
  metrics::MetricsEndpoint endpoint;
  endpoint.listen = config.metrics_listen;
  if (!config.metrics_basic_auth_file.empty()) {
    std::ifstream in(config.metrics_basic_auth_file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--metrics-basic-auth-file=", config.metrics_basic_auth_file, ": cannot read"));
    }
    line = std::string(absl::StripTrailingAsciiWhitespace(line));
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--metrics-basic-auth-file=", config.metrics_basic_auth_file,
                       ": the first line must be user:password"));
    }
    endpoint.basic_auth_user = line.substr(0, colon);
    endpoint.basic_auth_password = line.substr(colon + 1);
  }
  return endpoint;
}

absl::CivilDay TodayUtc() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }

}  // namespace

int Run(const config::Config& config) {
  log::Info("starting stepledger-collector", {{"version", STEPLEDGER_VERSION}});
  // Before anything connects, so that a frozen database server hangs nothing, migrations
  // included (docs/OPERATING.md, "PostgreSQL failover"). Destroyed last.
  std::unique_ptr<storage::LivenessWatchdog> liveness;
  if (config.database_liveness_timeout > absl::ZeroDuration()) {
    liveness = std::make_unique<storage::LivenessWatchdog>(
        storage::ConnectionRegistry::Global(),
        storage::LivenessWatchdog::Options{.timeout = config.database_liveness_timeout});
  }
  if (config.migrate) {
    if (absl::Status s = MigrateWithRetry(config); !s.ok()) {
      log::Error("migration failed", {{"error", std::string(s.message())}});
      return 1;
    }
  }
  if (absl::Status s =
          storage::EnsurePartitionsAround(config.database_url, TodayUtc(), kPartitionDaysAhead);
      !s.ok()) {
    log::Error("cannot create ledger partitions", {{"error", std::string(s.message())}});
    return 1;
  }

  metrics::MetricsRegistry registry;
  absl::StatusOr<metrics::MetricsEndpoint> metrics_endpoint = MetricsEndpointOf(config);
  if (!metrics_endpoint.ok()) {
    log::Error("cannot serve metrics",
               {{"error", std::string(metrics_endpoint.status().message())}});
    return 1;
  }
  if (absl::Status s = registry.Serve(*metrics_endpoint); !s.ok()) {
    log::Error("cannot serve metrics", {{"error", std::string(s.message())}});
    return 1;
  }
  log::Info("metrics endpoint",
            {{"metrics", config.metrics_listen},
             {"basic_auth", config.metrics_basic_auth_file.empty() ? "off" : "on"}});
  metrics::RegisterBuildInfo(registry.registry(), STEPLEDGER_VERSION);
  domain::SystemClock clock;
  metrics::LabelGuard label_guard(
      registry.registry(), {.default_limit = static_cast<size_t>(config.metrics_label_limit),
                            .limits = {{"model", metrics::PricingMetrics::kMaxModelLabels}}});
  metrics::SpendMetrics spend_metrics(
      registry.registry(), label_guard, clock,
      {.top_tenants = static_cast<size_t>(config.metrics_top_tenants)});
  metrics::IngestMetrics ingest_metrics(registry.registry(), spend_metrics.unattributed_family());
  metrics::RunMetrics run_metrics(registry.registry());
  metrics::PricingMetrics pricing_metrics(registry.registry(), &label_guard);

  // Prices: the catalog files are stored as a price version (unless unchanged) and the book
  // holds every stored version, so each step is priced by the version in force when it
  // occurred. SIGHUP reloads; upkeep picks up versions stored by other replicas.
  storage::PgPriceStore price_store(config.database_url);
  CatalogPricer pricer;
  PriceCatalogReloader price_reloader(
      {.model_prices_path = config.price_catalog, .tool_prices_path = config.tool_prices},
      price_store, pricer, &pricing_metrics);
  if (absl::Status s = price_reloader.Load(absl::Now()); !s.ok()) {
    log::Error("cannot load prices", {{"error", std::string(s.message())}});
    return 1;
  }

  // Budgets: caps, acknowledgements and shared counters live in PostgreSQL; the engine decides
  // in memory. Each replica's writers own their counter rows ("<instance>/w<n>"), so a fresh
  // random instance id per process never collides with another replica or an earlier run.
  const std::string instance_id = absl::StrFormat("%08x", absl::Uniform<uint32_t>(absl::BitGen()));
  storage::PgBudgetStore budget_store(config.database_url);
  domain::budget::BudgetEngine budget_engine(
      clock, {.instance_id = instance_id, .stale_after = config.budget_stale_after});
  metrics::BudgetMetrics budget_metrics(registry.registry(), clock,
                                        {.top_caps = static_cast<size_t>(config.metrics_top_caps)});
  // Reservations are shared through PostgreSQL, so that a step stored on any replica settles
  // its reservation everywhere (docs/BUDGETS.md, "Several replicas"): written every 50 ms off
  // the check's path (reservation_flush below), read by every refresh.
  storage::PgReservationStore reservation_store(config.database_url);
  domain::budget::ReservationSharing reservation_sharing(budget_engine, reservation_store, clock);
  domain::budget::BudgetCoordinator budgets(budget_engine, budget_store, clock, &budget_metrics,
                                            config.budget_full_counter_read_interval,
                                            &reservation_sharing);
  if (absl::Status s = budgets.Start(); !s.ok()) {
    log::Error("cannot load budgets", {{"error", std::string(s.message())}});
    return 1;
  }
  // Cap changes: safe ones at once, loosening ones only with a second credential's approval
  // (docs/BUDGETS.md, "Sign-off"); proposals and sign-offs are in PostgreSQL for every replica.
  storage::PgCapChangeStore cap_change_store(config.database_url);
  domain::budget::CapGovernance cap_governance(budgets, cap_change_store, clock);

  // API keys (docs/SECURITY.md): every call is authorized against the key ring, which every
  // replica re-reads each key_refresh_interval (the bound on how long a revoked key works).
  storage::PgKeyStore key_store(config.database_url);
  security::KeyRing key_ring(key_store, clock);
  security::KeyAdmin key_admin(key_store, key_ring, clock);
  if (absl::Status s = key_ring.Refresh(); !s.ok()) {
    log::Error("cannot load API keys", {{"error", std::string(s.message())}});
    return 1;
  }
  if (absl::Status s = BootstrapAdminKey(config, key_admin); !s.ok()) {
    log::Error("cannot bootstrap the admin key", {{"error", std::string(s.message())}});
    return 1;
  }
  const transport::Authorizer authorizer =
      config.insecure_no_auth ? transport::Authorizer::NoAuth() : transport::Authorizer(key_ring);
  log::Info("authentication",
            {{"mode", config.insecure_no_auth        ? "none (--insecure-no-auth)"
                      : config.tls_client_ca.empty() ? "api keys"
                                                     : "api keys or client certificates"},
             {"active_keys", absl::StrCat(key_ring.active_keys())}});
  if (!config.insecure_no_auth && key_ring.active_keys() == 0) {
    log::Warn(
        "no API key is stored: every call is refused until one is bootstrapped "
        "(--bootstrap-admin-key-file or STEPLEDGER_BOOTSTRAP_ADMIN_KEY)");
  }

  CommitLogObserver commit_observer({&pricing_metrics, &ingest_metrics, &spend_metrics, &budgets});
  std::vector<std::unique_ptr<domain::ingest::LedgerStore>> stores;
  for (int i = 0; i < config.writers; ++i) {
    stores.push_back(std::make_unique<storage::PgLedgerStore>(
        storage::PgLedgerStore::Options{.database_url = config.database_url,
                                        .run_observer = &run_metrics,
                                        .counter_owner = absl::StrCat(instance_id, "/w", i)}));
  }
  domain::ingest::GroupCommitter committer(
      std::move(stores),
      {.max_queued_events = static_cast<size_t>(config.max_queued_events),
       .max_group_events = static_cast<size_t>(config.max_group_events)},
      &commit_observer);
  domain::ingest::ValidationLimits validation_limits;
  if (config.ledger_retention_days > 0) {
    // An event older than the retention would land in a day that may already be retired.
    validation_limits.max_age =
        std::min(validation_limits.max_age, absl::Hours(24) * config.ledger_retention_days);
  }
  domain::ingest::IngestService ingest(committer, clock, validation_limits, &ingest_metrics,
                                       &pricer);
  // GetRun: the service's query threads (4 by default) each take a connection from the
  // repository's pool (4 by default), so queries never wait on each other for a connection.
  storage::PgRunRepository run_repository({.database_url = config.database_url});
  domain::runs::RunQuery run_query(run_repository);
  // One token bucket per credential over StreamSteps, OTLP/gRPC and OTLP/HTTP.
  const domain::ingest::RateLimit ingest_rate =
      domain::ingest::DefaultRateLimit(config.ingest_rate_limit, config.ingest_burst);
  domain::ingest::IngestRateLimiter ingest_rate_limiter(clock, ingest_rate);
  // Always on: a key may carry its own rate (keys create --ingest-rate) with the flag off.
  domain::ingest::IngestRateLimiter* rate_limiter = &ingest_rate_limiter;
  log::Info(
      "ingest rate limit per credential",
      {{"events_per_second",
        config.ingest_rate_limit > 0 ? absl::StrCat(config.ingest_rate_limit) : std::string("off")},
       {"burst", absl::StrCat(ingest_rate.burst)}});
  transport::CollectorService collector(ingest, &run_query, authorizer,
                                        {.max_inflight_batches = config.max_inflight_batches,
                                         .max_quarantine_event_bytes = kMaxQuarantineEventBytes,
                                         .max_unsent_ack_bytes = kMaxUnsentAckBytes,
                                         .rate_limiter = rate_limiter});

  // OTLP/gRPC trace export into the same write path (docs/OTLP.md).
  transport::OtlpTraceService otlp_traces(
      ingest, authorizer,
      {.max_quarantine_event_bytes = kMaxQuarantineEventBytes, .rate_limiter = rate_limiter});

  // grpc.health.v1.Health, kept truthful by HealthMonitor below.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  std::unique_ptr<TlsReloader> tls_reloader;  // re-reads the certificate on SIGHUP and a timer
  if (!config.insecure) {
    absl::StatusOr<std::shared_ptr<transport::TlsCertificates>> tls =
        transport::TlsCertificates::Load({.cert_path = config.tls_cert,
                                          .key_path = config.tls_key,
                                          .client_ca_path = config.tls_client_ca});
    if (!tls.ok()) {
      log::Error("cannot serve TLS", {{"error", std::string(tls.status().message())}});
      return 1;
    }
    credentials = (*tls)->ServerCredentials();
    log::Info("TLS certificate loaded",
              {{"subject", (*tls)->served().subject}, {"not_after", (*tls)->served().not_after}});
    tls_reloader = std::make_unique<TlsReloader>(*std::move(tls));
  }
  log::Info("gRPC transport",
            {{"mode", config.insecure ? "plaintext (--insecure)"
                                      : (config.tls_client_ca.empty() ? "tls" : "tls+mtls")}});
  builder.AddListeningPort(config.grpc_listen, credentials, &grpc_port);
  builder.RegisterService(&collector);
  builder.RegisterService(&otlp_traces);
  transport::WorkPool budget_pool(/*threads=*/2, /*max_queued=*/256);
  transport::BudgetService budget_service(budgets, authorizer, budget_pool, &cap_governance);
  builder.RegisterService(&budget_service);
  // Admin (rollups, invoices, prices, what-if) and Reports: slow PostgreSQL work, each on its
  // own small pool, through one backend.
  PgAdminBackend admin_backend(config.database_url, pricer);
  transport::WorkPool reports_pool(/*threads=*/1, /*max_queued=*/16);
  transport::ReportsService reports_service(
      [&admin_backend](absl::CivilDay from, absl::CivilDay to, const std::string& environment) {
        return admin_backend.LoadShowback(from, to, environment);
      },
      reports_pool, authorizer,
      [&admin_backend](absl::CivilDay from, absl::CivilDay to) {
        return admin_backend.RollUp(from, to, /*on_day=*/nullptr);
      });
  builder.RegisterService(&reports_service);
  transport::WorkPool admin_pool(/*threads=*/2, /*max_queued=*/16);
  AdminOperations admin_operations(config.database_url, clock);
  transport::AdminService admin_service(admin_backend, authorizer, admin_pool,
                                        admin_operations.registry());
  builder.RegisterService(&admin_service);
  transport::WorkPool keys_pool(/*threads=*/1, /*max_queued=*/16);
  transport::KeysService keys_service(key_admin, authorizer, keys_pool);
  builder.RegisterService(&keys_service);
  // Server reflection for grpcurl and similar tools, as callback services
  // (transport/server_reflection.h says why not gRPC's own).
  const std::vector<std::string> reflected_services = {
      v1::Collector::service_full_name(),
      v1::Budget::service_full_name(),
      v1::Reports::service_full_name(),
      v1::Admin::service_full_name(),
      opentelemetry::proto::collector::trace::v1::TraceService::service_full_name(),
      "grpc.health.v1.Health",
      grpc::reflection::v1::ServerReflection::service_full_name(),
      grpc::reflection::v1alpha::ServerReflection::service_full_name()};
  transport::ServerReflectionV1 reflection_v1(reflected_services);
  transport::ServerReflectionV1Alpha reflection_v1alpha(reflected_services);
  builder.RegisterService(&reflection_v1);
  builder.RegisterService(&reflection_v1alpha);
  // Memory bounds against any client's input or pace (docs/RELIABILITY.md, "hostile input").
  ApplyGrpcLimits(config, builder);
  // Each stream's window for unread data stays at gRPC's initial 64 KiB: with bandwidth probing
  // on, gRPC grew the windows of streams the collector had stopped reading (clients that never
  // take their acks) and buffered their data, uncounted (docs/RELIABILITY.md).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  grpc::ResourceQuota grpc_memory("stepledger-grpc");
  grpc_memory.Resize(kGrpcMemoryBytes);
  builder.SetResourceQuota(grpc_memory);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || grpc_port == 0) {
    log::Error("cannot listen for gRPC", {{"grpc_listen", config.grpc_listen}});
    return 1;
  }
  // OTLP/HTTP on its own port, into the same write path as OTLP/gRPC.
  transport::OtlpIngest otlp_http_ingest(ingest, kMaxQuarantineEventBytes, rate_limiter);
  transport::OtlpHttpServer otlp_http(
      otlp_http_ingest, authorizer,
      {.max_body_bytes = static_cast<size_t>(config.max_receive_message_bytes)});
  if (!config.otlp_http_listen.empty()) {
    absl::StatusOr<int> port = otlp_http.Start(config.otlp_http_listen);
    if (!port.ok()) {
      log::Error("cannot listen for OTLP/HTTP", {{"otlp_http_listen", config.otlp_http_listen}});
      return 1;
    }
    log::Info("OTLP/HTTP ready",
              {{"otlp_http", config.otlp_http_listen}, {"otlp_http_port", absl::StrCat(*port)}});
  }
  // SERVING only while PostgreSQL is reachable and migrated.
  HealthMonitor health(
      server->GetHealthCheckService(),
      [&config] { return storage::CheckDatabaseReady(config.database_url); }, absl::Seconds(2));
  log::Info("collector ready", {{"grpc", config.grpc_listen},
                                {"grpc_port", absl::StrCat(grpc_port)},
                                {"metrics", config.metrics_listen},
                                {"metrics_port", absl::StrCat(registry.port())},
                                {"writers", absl::StrCat(config.writers)}});

  // Budget refresh: caps, acknowledgements and counters changed by other replicas, and
  // reservation expiry, every budget_refresh_interval (the documented staleness bound).
  PeriodicTask budget_refresh(config.budget_refresh_interval, [&budgets] {
    if (absl::Status s = budgets.Refresh(); !s.ok()) {
      log::Warn("budget refresh failed; decisions use the last known counters",
                {{"error", std::string(s.message())}});
    }
  });

  bool reservation_flush_failing = false;  // logged when it starts and stops failing
  PeriodicTask reservation_flush(
      domain::budget::kReservationFlushInterval,
      [&reservation_sharing, &reservation_flush_failing] {
        const absl::Status s = reservation_sharing.Flush();
        if (s.ok() == !reservation_flush_failing) return;
        reservation_flush_failing = !s.ok();
        if (!s.ok()) {
          log::Warn("cannot share budget reservations; other replicas do not see them yet",
                    {{"error", std::string(s.message())}});
        } else {
          log::Info("budget reservations are shared again");
        }
      });

  // Keys: revocations and new keys made on other replicas.
  absl::Notification stop_key_refresh;
  std::thread key_refresh([&] {
    while (!stop_key_refresh.WaitForNotificationWithTimeout(config.key_refresh_interval)) {
      if (absl::Status s = key_ring.Refresh(); !s.ok()) {
        log::Warn("API key refresh failed; the last known keys stay in force",
                  {{"error", std::string(s.message())}});
      }
    }
  });

  // Upkeep (ledger_upkeep.h): queue gauges every second; runs and prices every
  // upkeep_interval, from the start; partitions and retention every hour.
  PeriodicTask queue_gauges(absl::Seconds(1), [&] {
    ingest_metrics.SetQueueDepth(committer.QueuedEvents());
    ingest_metrics.SetUnsentAckBytes(collector.unsent_ack_bytes());
  });
  metrics::RetentionMetrics retention_metrics(registry.registry());
  LedgerUpkeep ledger_upkeep({.database_url = config.database_url,
                              .pending_inheritance_wait = config.pending_inheritance_wait,
                              .partition_days_ahead = kPartitionDaysAhead,
                              .retention_days = config.ledger_retention_days,
                              .retention_detach = config.ledger_retention_detach},
                             run_metrics, retention_metrics, price_reloader);
  PeriodicTask runs_upkeep(
      config.upkeep_interval, [&ledger_upkeep] { ledger_upkeep.RunsAndPrices(); },
      /*run_at_start=*/true);
  PeriodicTask partitions_upkeep(absl::Hours(1), [&ledger_upkeep] {
    ledger_upkeep.Partitions();
    ledger_upkeep.Retention();
  });

  // TLS certificate: new files are picked up within tls_reload_interval even without SIGHUP.
  std::unique_ptr<PeriodicTask> tls_reload;
  if (tls_reloader != nullptr && config.tls_reload_interval > absl::ZeroDuration()) {
    tls_reload = std::make_unique<PeriodicTask>(config.tls_reload_interval,
                                                [&tls_reloader] { tls_reloader->Reload("timer"); });
  }

  // Nightly rollup: every replica schedules it; the advisory lock lets one of them run it.
  NightlyRollup nightly_rollup(
      clock, {.database_url = config.database_url,
              .schedule = {.time_of_day = config.rollup_time, .days_back = config.rollup_days_back},
              .report_dir = config.report_dir});
  if (config.rollup_schedule) nightly_rollup.Start();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    log::Info("SIGHUP: reloading the price catalog and the TLS certificate");
    price_reloader.Load(absl::Now()).IgnoreError();  // logged; on failure the prices stay
    if (tls_reloader != nullptr) tls_reloader->Reload("SIGHUP");
  }
  log::Info("shutting down: no new streams, finishing in-flight batches",
            {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});

  // Stop accepting; open streams get shutdown_grace to finish before being cancelled. Every
  // batch already handed to the writer is committed and acked (or reported failed) first.
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(config.shutdown_grace)));
  committer.Stop();
  queue_gauges.Stop();
  runs_upkeep.Stop();
  partitions_upkeep.Stop();
  budget_refresh.Stop();
  reservation_flush.Stop();
  if (tls_reload != nullptr) tls_reload->Stop();
  stop_key_refresh.Notify();
  key_refresh.join();
  nightly_rollup.Stop();
  log::Info("stopped cleanly");
  return 0;
}

}  // namespace stepledger::app
