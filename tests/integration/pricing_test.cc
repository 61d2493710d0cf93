// Integration: price versions in PostgreSQL, pricing on the real write path, unpriced steps,
// and re-pricing as correction entries.
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/app/catalog_pricer.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/storage/admin_audit.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_ledger_store.h"
#include "server/storage/pg_price_store.h"
#include "server/storage/showback_source.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::Step;
using domain::ingest::BatchResult;
using domain::ingest::GroupCommitter;
using domain::ingest::IngestService;
using domain::ingest::LedgerStore;
using domain::ingest::ReceivedEvent;
using storage::CatalogTexts;
using storage::PgPriceStore;
using testing::TestDatabase;
using testing::WritePath;

const domain::auth::AuditActor kActor{"key:pricing-test/0001", ""};

// Catalog texts in LiteLLM's format. v2 raises gpt-4o's input price; v3 is v2 plus a model
// that v1 and v2 did not know.
constexpr char kGpt4oV1[] =
    R"("gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                  "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05})";
constexpr char kGpt4oV2[] =
    R"("gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                  "input_cost_per_token": 5e-06, "output_cost_per_token": 1e-05})";
constexpr char kNewModel[] =
    R"("acme-large": {"litellm_provider": "acme", "mode": "chat",
                      "input_cost_per_token": 3e-07, "output_cost_per_token": 1.2e-06})";
constexpr char kTools[] = "web_search 0.01 0 -\n";

CatalogTexts Texts(const std::string& json_body) {
  return {"models.json", absl::StrCat("{", json_body, "}"), "tools.txt", kTools};
}

// gpt-4o, 1000 uncached input + 100 output tokens.
constexpr domain::NanoUsd kCostV1 = 1000 * 2'500 + 100 * 10'000;  // 3'500'000 nano-USD
constexpr domain::NanoUsd kCostV2 = 1000 * 5'000 + 100 * 10'000;  // 6'000'000
// acme-large, same usage.
constexpr domain::NanoUsd kCostNewModel = 1000 * 300 + 100 * 1'200;  // 420'000

Step ModelStep(const std::string& id, const std::string& model, absl::Time at) {
  Step s;
  s.event_id = id;
  s.tags = {"inbox-triage",
            "mail-ai",
            domain::WorkloadClass::kInteractive,
            "acme",
            domain::Environment::kProduction,
            "run-" + id};
  s.step_id = "root";
  s.kind = domain::StepKind::kModelCall;
  s.provider = "openai";
  s.model = model;
  s.usage.input_uncached_tokens = 1000;
  s.usage.output_tokens = 100;
  s.started_at = at;
  return s;
}

class PricingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }

  storage::PriceVersionInfo Save(const CatalogTexts& texts, absl::Time from) {
    absl::StatusOr<storage::PriceVersionInfo> info =
        store_.SaveVersion(texts, from, absl::Now(), kActor);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : storage::PriceVersionInfo{};
  }

  // The book from every stored version, as the collector builds it.
  void RefreshPricer() {
    absl::StatusOr<domain::pricing::PriceBook> book = store_.LoadBook();
    ASSERT_TRUE(book.ok()) << book.status();
    pricer_.Swap(std::make_shared<const domain::pricing::PriceBook>(std::move(*book)));
  }

  std::string Text(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction t(c);
    pqxx::row row = t.exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }

  // What the ledger says was spent: stored costs plus corrections.
  int64_t Total() {
    return db_.Count(
        "SELECT (SELECT COALESCE(sum(cost_nano_usd), 0) FROM steps) + "
        "(SELECT COALESCE(sum(delta_nano_usd), 0) FROM cost_corrections)");
  }

  TestDatabase db_;
  PgPriceStore store_{db_.url()};
  app::CatalogPricer pricer_;
  const absl::Time now_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
};

TEST_F(PricingTest, StepsBeforeAndAfterAPriceChangeArePricedByTheVersionInForce) {
  const storage::PriceVersionInfo v1 = Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  const storage::PriceVersionInfo v2 = Save(Texts(kGpt4oV2), now_ - absl::Hours(1));
  ASSERT_TRUE(v1.created && v2.created);
  RefreshPricer();

  WritePath path(db_.url(), {.pricer = &pricer_});
  BatchResult r = path.Send({ModelStep("before", "gpt-4o", now_ - absl::Minutes(90)),
                             ModelStep("after", "gpt-4o", now_ - absl::Minutes(30))});
  EXPECT_EQ(r.accepted, 2);
  EXPECT_EQ(Text("SELECT cost_nano_usd || '/' || cost_source || '/' || price_version || '/' || "
                 "unpriced_reason FROM steps WHERE event_id = 'before'"),
            absl::StrCat(kCostV1, "/computed/", v1.id, "/"));
  EXPECT_EQ(Text("SELECT cost_nano_usd || '/' || cost_source || '/' || price_version "
                 "FROM steps WHERE event_id = 'after'"),
            absl::StrCat(kCostV2, "/computed/", v2.id));
  // Each stored version rebuilds exactly from its stored text.
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions WHERE model_catalog LIKE '%gpt-4o%' "
                      "AND tool_catalog = 'web_search 0.01 0 -\n' AND length(checksum) = 64"),
            2);
}

TEST_F(PricingTest, LoadingTheNewestCatalogAgainDoesNotCreateAVersion) {
  const storage::PriceVersionInfo v1 = Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  const storage::PriceVersionInfo again = Save(Texts(kGpt4oV1), now_);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.id, v1.id);
  EXPECT_EQ(again.effective_from, v1.effective_from);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions"), 1);

  // Going back to an older catalog is a change from now on: a new version.
  Save(Texts(kGpt4oV2), now_ - absl::Hours(1));
  const storage::PriceVersionInfo back = Save(Texts(kGpt4oV1), now_);
  EXPECT_TRUE(back.created);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions"), 3);
}

TEST_F(PricingTest, TheFirstVersionPricesEverythingBeforeIt) {
  const storage::PriceVersionInfo v1 = Save(Texts(kGpt4oV1), now_);
  EXPECT_EQ(v1.effective_from, absl::UnixEpoch());
  RefreshPricer();
  WritePath path(db_.url(), {.pricer = &pricer_});
  path.Send({ModelStep("last-week", "gpt-4o", now_ - absl::Hours(24 * 7))});
  EXPECT_EQ(db_.Count("SELECT cost_nano_usd FROM steps WHERE event_id = 'last-week'"), kCostV1);
}

TEST_F(PricingTest, AVersionNeverTakesEffectBeforeTheNewestOne) {
  Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  const storage::PriceVersionInfo v2 = Save(Texts(kGpt4oV2), now_);
  EXPECT_EQ(v2.effective_from, now_);
  // A replica whose clock is behind: the new version starts just after the newest one.
  const storage::PriceVersionInfo v3 =
      Save(Texts(absl::StrCat(kGpt4oV2, ",", kNewModel)), now_ - absl::Hours(1));
  EXPECT_TRUE(v3.created);
  EXPECT_EQ(v3.effective_from, now_ + absl::Microseconds(1));
}

TEST_F(PricingTest, ACatalogThatDoesNotLoadIsNotStored) {
  absl::StatusOr<storage::PriceVersionInfo> bad = store_.SaveVersion(
      {"m.json", R"({"x": {"input_cost_per_token": "cheap", "output_cost_per_token": 1}})", "", ""},
      now_, now_, kActor);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions"), 0);
}

TEST_F(PricingTest, UnknownModelIsStoredUnpricedAndRepriceAfterTheFixCorrectsItOnce) {
  Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  RefreshPricer();
  WritePath path(db_.url(), {.pricer = &pricer_});
  Step reported = ModelStep("reported", "acme-large", now_ - absl::Minutes(80));
  reported.cost_nano_usd = 777;
  EXPECT_EQ(path.Send({ModelStep("known", "gpt-4o", now_ - absl::Minutes(90)),
                       ModelStep("unknown", "acme-large", now_ - absl::Minutes(90)), reported})
                .accepted,
            3);
  EXPECT_EQ(Text("SELECT COALESCE(cost_nano_usd::text, 'NULL') || '/' || cost_source || '/' || "
                 "unpriced_reason FROM steps WHERE event_id = 'unknown'"),
            "NULL/unpriced/unknown_model");

  absl::StatusOr<std::vector<storage::UnpricedGroup>> unpriced =
      store_.ListUnpriced(now_ - absl::Hours(3), absl::InfiniteFuture());
  ASSERT_TRUE(unpriced.ok()) << unpriced.status();
  ASSERT_EQ(unpriced->size(), 1u);
  EXPECT_EQ((*unpriced)[0].model, "acme-large");
  EXPECT_EQ((*unpriced)[0].reason, "unknown_model");
  EXPECT_EQ((*unpriced)[0].steps, 1);

  // Before the fix, reprice has nothing to correct.
  absl::StatusOr<storage::RepriceReport> none =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->corrections.empty());
  EXPECT_EQ(none->still_unpriced, 1);
  EXPECT_EQ(none->examined, 2);  // the reported step is never re-priced

  const int64_t total_before = Total();
  EXPECT_EQ(total_before, kCostV1 + 777);

  // The fix: a catalog that knows the model, loaded after the step occurred.
  const storage::PriceVersionInfo fix =
      Save(Texts(absl::StrCat(kGpt4oV1, ",", kNewModel)), now_ - absl::Minutes(10));

  // A dry run shows the correction and writes nothing.
  absl::StatusOr<storage::RepriceReport> dry =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), true, kActor);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->corrections.size(), 1u);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM cost_corrections"), 0);

  absl::StatusOr<storage::RepriceReport> report =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->corrections.size(), 1u);
  const storage::Correction& c = report->corrections[0];
  EXPECT_EQ(c.event_id, "unknown");
  EXPECT_FALSE(c.old_cost_nano_usd.has_value());
  EXPECT_EQ(c.new_cost_nano_usd, kCostNewModel);
  EXPECT_EQ(c.delta_nano_usd, kCostNewModel);
  EXPECT_EQ(c.price_version, fix.id);
  EXPECT_EQ(c.reason, "unpriced:unknown_model");
  EXPECT_EQ(report->total_delta_nano_usd, kCostNewModel);
  EXPECT_EQ(report->still_unpriced, 0);

  // History is not edited: the stored row is as it was; the correction carries who pays.
  EXPECT_EQ(Text("SELECT COALESCE(cost_nano_usd::text, 'NULL') FROM steps "
                 "WHERE event_id = 'unknown'"),
            "NULL");
  EXPECT_EQ(Text("SELECT COALESCE(old_cost_nano_usd::text, 'NULL') || '/' || new_cost_nano_usd "
                 "|| '/' || charged_team || '/' || parent_run_id FROM cost_corrections"),
            absl::StrCat("NULL/", kCostNewModel, "/mail-ai/run-unknown"));
  EXPECT_EQ(Total(), total_before + kCostNewModel);

  // Idempotent: a second run corrects nothing and the total stays.
  absl::StatusOr<storage::RepriceReport> again =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->corrections.empty());
  EXPECT_EQ(again->total_delta_nano_usd, 0);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM cost_corrections"), 1);
  EXPECT_EQ(Total(), total_before + kCostNewModel);

  // A corrected step is no longer listed as unpriced.
  unpriced = store_.ListUnpriced(now_ - absl::Hours(3), absl::InfiniteFuture());
  ASSERT_TRUE(unpriced.ok());
  EXPECT_TRUE(unpriced->empty());
}

TEST_F(PricingTest, AStepPricedByAStaleBookIsCorrectedToTheVersionInForce) {
  Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  RefreshPricer();  // this "replica" knows only v1
  const storage::PriceVersionInfo v2 = Save(Texts(kGpt4oV2), now_ - absl::Hours(1));

  WritePath path(db_.url(), {.pricer = &pricer_});
  path.Send({ModelStep("stale", "gpt-4o", now_ - absl::Minutes(30)),
             ModelStep("old", "gpt-4o", now_ - absl::Minutes(90))});
  EXPECT_EQ(db_.Count("SELECT cost_nano_usd FROM steps WHERE event_id = 'stale'"), kCostV1);
  const int64_t total_before = Total();

  absl::StatusOr<storage::RepriceReport> report =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->corrections.size(), 1u);  // "old" was priced right
  EXPECT_EQ(report->corrections[0].event_id, "stale");
  EXPECT_EQ(report->corrections[0].old_cost_nano_usd, kCostV1);
  EXPECT_EQ(report->corrections[0].new_cost_nano_usd, kCostV2);
  EXPECT_EQ(report->corrections[0].price_version, v2.id);
  EXPECT_EQ(report->corrections[0].reason, "mispriced");
  EXPECT_EQ(Total(), total_before + (kCostV2 - kCostV1));

  absl::StatusOr<storage::RepriceReport> again =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->corrections.empty());
  EXPECT_EQ(Total(), total_before + (kCostV2 - kCostV1));
}

TEST_F(PricingTest, RepriceOnlyLooksAtStepsSinceTheGivenTime) {
  Save(Texts(kGpt4oV1), now_ - absl::Hours(5));
  RefreshPricer();
  WritePath path(db_.url(), {.pricer = &pricer_});
  path.Send({ModelStep("early", "acme-large", now_ - absl::Hours(4)),
             ModelStep("late", "acme-large", now_ - absl::Hours(1))});
  Save(Texts(absl::StrCat(kGpt4oV1, ",", kNewModel)), now_ - absl::Minutes(5));
  absl::StatusOr<storage::RepriceReport> report =
      store_.Reprice(now_ - absl::Hours(2), absl::InfiniteFuture(), false, kActor);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->corrections.size(), 1u);
  EXPECT_EQ(report->corrections[0].event_id, "late");
}

}  // namespace
}  // namespace stepledger

namespace stepledger {
namespace {

TEST_F(PricingTest, TheStepsServiceTierAndToolUnitsArePricedAndKept) {
  const std::string models = R"({"gpt-4o": {"litellm_provider": "openai", "mode": "chat",
      "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
      "input_cost_per_token_batches": 1.25e-06, "output_cost_per_token_batches": 5e-06}})";
  absl::StatusOr<storage::PriceVersionInfo> v =
      store_.SaveVersion({"models.json", models, "tools.txt", "rerank 0 2 docs\n"},
                         now_ - absl::Hours(1), absl::Now(), kActor);
  ASSERT_TRUE(v.ok()) << v.status();
  RefreshPricer();

  domain::Step batch = ModelStep("batch", "gpt-4o", now_ - absl::Minutes(5));
  batch.service_tier = "batch";
  domain::Step odd = ModelStep("odd-tier", "gpt-4o", now_ - absl::Minutes(5));
  odd.service_tier = "turbo";
  domain::Step rerank = ModelStep("rerank", "", now_ - absl::Minutes(5));
  rerank.kind = domain::StepKind::kRerank;
  rerank.tool_name = "rerank";
  rerank.usage = {};
  rerank.tool_units = 500;
  domain::Step rerank_no_units = rerank;
  rerank_no_units.event_id = "rerank-no-units";
  rerank_no_units.tool_units.reset();
  WritePath path(db_.url(), {.pricer = &pricer_});
  EXPECT_EQ(path.Send({batch, odd, rerank, rerank_no_units}).accepted, 4);

  EXPECT_EQ(Text("SELECT cost_nano_usd || '/' || service_tier FROM steps WHERE event_id = "
                 "'batch'"),
            absl::StrCat(1000 * 1'250 + 100 * 5'000, "/batch"));
  EXPECT_EQ(Text("SELECT cost_source || '/' || unpriced_reason FROM steps WHERE event_id = "
                 "'odd-tier'"),
            "unpriced/unknown_tier");
  EXPECT_EQ(Text("SELECT cost_nano_usd || '/' || tool_units FROM steps WHERE event_id = "
                 "'rerank'"),
            absl::StrCat(500 * 2 * 1'000'000, "/500"));  // 500 docs at $2 per 1k = $1
  EXPECT_EQ(Text("SELECT cost_source || '/' || COALESCE(tool_units::text, 'NULL') FROM steps "
                 "WHERE event_id = 'rerank-no-units'"),
            "unpriced/NULL");
}

// Issue 17 item 4: a reprice, a new price version and an invoice import each write their
// admin_audit row (the credential's identity, the typed reason as a note) in the transaction of
// the change: a refused audit row takes the change with it, and a refused change its row.
TEST_F(PricingTest, ChangesAndTheirAuditRowsCommitOrRollBackTogether) {
  const domain::auth::AuditActor nobody{"", ""};  // the table refuses an audit without an actor
  const domain::auth::AuditActor lead{"key:pricing-lead/00ff", "catalog fix, ticket 42"};
  auto audit_rows = [&](const std::string& action) {
    return db_.Count(
        absl::StrCat("SELECT count(*) FROM admin_audit WHERE action = '", action, "'"));
  };
  Save(Texts(kGpt4oV1), now_ - absl::Hours(2));
  RefreshPricer();
  WritePath path(db_.url(), {.pricer = &pricer_});
  ASSERT_EQ(path.Send({ModelStep("unknown", "acme-large", now_ - absl::Minutes(90))}).accepted, 1);

  // A price version: refused with its audit row, stored with it.
  const int64_t versions = db_.Count("SELECT count(*) FROM price_versions");
  const CatalogTexts fix = Texts(absl::StrCat(kGpt4oV1, ",", kNewModel));
  EXPECT_FALSE(store_.SaveVersion(fix, now_ - absl::Minutes(10), absl::Now(), nobody).ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions"), versions);
  ASSERT_TRUE(store_.SaveVersion(fix, now_ - absl::Minutes(10), absl::Now(), lead).ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM price_versions"), versions + 1);
  EXPECT_EQ(Text("SELECT actor || ' | ' || note || ' | ' || (detail->>'models') FROM admin_audit "
                 "WHERE action = 'load_price_catalog' ORDER BY id DESC LIMIT 1"),
            "key:pricing-lead/00ff | catalog fix, ticket 42 | 2");

  // A reprice: the correction goes with its audit row; a dry run writes neither.
  EXPECT_FALSE(store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, nobody).ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM cost_corrections"), 0);
  EXPECT_EQ(audit_rows("reprice"), 0);
  ASSERT_TRUE(store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), true, lead).ok());
  EXPECT_EQ(audit_rows("reprice"), 0);
  absl::StatusOr<storage::RepriceReport> report =
      store_.Reprice(now_ - absl::Hours(3), absl::InfiniteFuture(), false, lead);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->corrections.size(), 1u);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM cost_corrections"), 1);
  EXPECT_EQ(Text("SELECT actor || ' | ' || (detail->>'corrections') || ' | ' || "
                 "(detail->>'total_delta_nano_usd') FROM admin_audit WHERE action = 'reprice'"),
            absl::StrCat("key:pricing-lead/00ff | 1 | ", kCostNewModel));

  // An invoice import: all months and the row, or nothing. A refused month (negative amount:
  // the invoices table's check) rolls back the months before it and the audit row.
  const std::vector<domain::reports::Invoice> good = {{"openai", absl::CivilMonth(2026, 10), 1000},
                                                      {"openai", absl::CivilMonth(2026, 11), 2000}};
  EXPECT_FALSE(storage::ImportInvoices(db_.url(), good, "test", nobody).ok());
  EXPECT_FALSE(storage::ImportInvoices(
                   db_.url(), {good[0], {"openai", absl::CivilMonth(2026, 11), -1}}, "test", lead)
                   .ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM invoices"), 0);
  EXPECT_EQ(audit_rows("import_invoice"), 0);
  ASSERT_TRUE(storage::ImportInvoices(db_.url(), good, "csv:nov.csv", lead).ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM invoices"), 2);
  EXPECT_EQ(
      Text("SELECT actor || ' | ' || (detail->>'source') || ' | ' || "
           "(detail->'months'->1->>'month') FROM admin_audit WHERE action = 'import_invoice'"),
      "key:pricing-lead/00ff | csv:nov.csv | 2026-11");

  // Read back newest first, as Admin.ListAdminAudit answers.
  absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> rows =
      storage::ListAdminAudit(db_.url(), 2);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].action, "import_invoice");
  EXPECT_EQ((*rows)[1].action, "reprice");
  EXPECT_EQ((*rows)[1].actor.note, "catalog fix, ticket 42");
}

}  // namespace
}  // namespace stepledger
