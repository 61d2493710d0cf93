// Every `stepledger` command against a real collector process and a real PostgreSQL, with
// nothing but the collector's address: the CLI runs in an empty environment (no
// STEPLEDGER_DATABASE_URL, no STEPLEDGER_TEST_DATABASE_URL), so any command that still
// reached for the database would fail here (issue 16: the collector is the only door).
#include <sys/wait.h>

#include <cstdio>
#include <pqxx/pqxx>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/test_keys.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

const std::string kRoot = STEPLEDGER_SOURCE_DIR;

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Single-quotes `arg` for /bin/sh.
std::string Quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

class CliE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    collector_ = std::make_unique<CollectorProcess>(
        db_.url(),
        std::vector<std::string>{
            "--price-catalog=" + kRoot + "/catalog/model_prices_and_context_window.json",
            "--tool-prices=" + kRoot + "/catalog/tool_prices.txt", "--rollup-schedule=false"});
    ASSERT_TRUE(collector_->Start()) << collector_->Log();
  }

  // Runs the CLI binary with `args` in an empty environment but for the target, key and CA.
  CliResult Cli(const std::vector<std::string>& args) {
    std::vector<std::string> quoted;
    for (const std::string& a : args) quoted.push_back(Quote(a));
    const std::string command =
        absl::StrCat("cd ", Quote(kRoot),
                     " && env -i PATH=/usr/bin:/bin STEPLEDGER_TARGET=", collector_->target(),
                     " STEPLEDGER_API_KEY=", testing::TestAdminKey(),
                     " STEPLEDGER_CA_CERT=", Quote(testing::TestCaCert()), " ", STEPLEDGER_CLI_BIN,
                     " ", absl::StrJoin(quoted, " "), " 2>&1");
    CliResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

  // Asserts exit 0 and that the output contains every one of `wanted`.
  void Expect(const std::vector<std::string>& args, const std::vector<std::string>& wanted,
              int exit_code = 0) {
    const CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, exit_code) << absl::StrJoin(args, " ") << "\n" << r.output;
    for (const std::string& w : wanted) {
      EXPECT_NE(r.output.find(w), std::string::npos)
          << absl::StrJoin(args, " ") << ": expected \"" << w << "\" in\n"
          << r.output;
    }
  }

  TestDatabase db_;
  std::unique_ptr<CollectorProcess> collector_;
};

TEST_F(CliE2ETest, EveryCommandWorksWithTheCollectorsAddressAlone) {
  // The README tour.
  Expect({"send", "examples/steps.jsonl"}, {"accepted 9, duplicates 0, rejected 0"});
  Expect({"run", "show", "run-inbox-triage-7f3a"}, {"run-inbox-triage-7f3a"});
  Expect({"budget", "apply", "examples/budgets.json", "--by", "e2e", "--dry-run"},
         {"dry run: created"});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets"), 0) << "a dry run stored caps";
  Expect({"budget", "apply", "examples/budgets.json", "--by", "e2e"}, {"unchanged 0"});
  Expect({"budget", "apply", "examples/budgets.json", "--by", "e2e"},
         {"created 0, updated 0, unchanged"});
  Expect({"budget", "list"}, {"caps"});
  Expect({"budget", "check", "--feature", "inbox-triage", "--team", "mail-assist", "--tenant",
          "northwind-traders", "--workload-class", "interactive", "--env", "production", "--run",
          "run-inbox-triage-7f3a", "--estimate-usd", "0.50"},
         {"decision:"});
  Expect({"rollup", "--day", "2026-11-28"}, {"2026-11-28  rolled", "steps 9"});
  Expect({"report", "showback", "--from", "2026-11-28", "--to", "2026-11-28"},
         {"Showback 2026-11-28 .. 2026-11-28", "mail-assist"});

  // The rest of the commands in docs/.
  Expect({"report", "showback", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "json"},
         {"\"from\":\"2026-11-28\""});
  // FOCUS 1.2 (docs/REPORTS.md) and the list of what it leaves out.
  Expect({"report", "showback", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "focus"},
         {"BilledCost,BillingAccountId,BillingAccountName,BillingCurrency", ",Usage-Based,",
          "AI and Machine Learning", "run-inbox-triage-7f3a"});
  Expect(
      {"report", "showback", "--from", "2026-11-28", "--to", "2026-11-28", "--format", "unpriced"},
      {"day,source,reason,steps,tokens"});
  Expect({"report", "showback", "--from", "2026-11-27", "--to", "2026-11-28"},
         {"Not rolled up yet", "stepledger rollup --from 2026-11-27 --to 2026-11-27"});
  Expect({"report", "showback", "--from", "2026-11-27", "--to", "2026-11-28", "--roll-up-missing"},
         {"rolled up through 2026-11-28"});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM rollup_days WHERE day = '2026-11-27'"), 1);
  Expect({"rollup", "--from", "2026-11-27", "--to", "2026-11-28"},
         {"2026-11-28  re-rolled", "rollup: 2/2 days done (through 2026-11-28)"});
  Expect({"invoice", "import", "--provider", "openai", "--period", "2026-11", "--amount", "$1,250",
          "--reason", "by finance-cfo"},
         {"imported openai 2026-11: 1250.00 USD", "invoiced $1250.00", "FLAGGED"});
  Expect({"prices", "show", "gpt-4o"}, {"gpt-4o", "tier standard"});
  Expect({"prices", "show", "gpt-4o", "--catalog", "catalog/model_prices_and_context_window.json"},
         {"catalog catalog/model_prices_and_context_window.json"});
  Expect({"prices", "quote", "gpt-4o", "--input", "1000", "--output", "100"},
         {"cost ", "nano-USD"});
  Expect({"prices", "show", "no-such-model-anywhere"}, {"NOT_FOUND"}, 4);
  Expect({"prices", "unpriced", "--since", "2026-11-01"}, {"unpriced steps from 2026-11-01"});
  Expect({"prices", "reprice", "--since", "2026-11-01", "--dry-run"},
         {"dry run: corrections that would be made", "steps examined"});
  Expect({"prices", "load", "--catalog", "catalog/model_prices_and_context_window.json",
          "--tool-prices", "catalog/tool_prices.txt"},
         {"unchanged: newest price version"});
  Expect({"prices", "reprice", "--since", "2026-11-01", "--reason", "as finance-cfo"},
         {"corrections made"});
  // The audit names the key the CLI called with (the harness's bootstrapped admin), whatever
  // was typed; the typed text is only the reason. The collector's own catalog load at start is
  // the collector's.
  const std::string key_identity =
      absl::StrCat("by key:bootstrap-admin/", testing::TestAdminKey().substr(4, 16));
  Expect({"prices", "audit", "--limit", "3"},
         {absl::StrCat("reprice             ", key_identity, " (reason: as finance-cfo)"),
          absl::StrCat("import_invoice      ", key_identity, " (reason: by finance-cfo)"),
          "load_price_catalog  by collector:--price-catalog", "\"provider\": \"openai\""});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM admin_audit WHERE actor LIKE '%finance-cfo%'"), 0);
  Expect({"budget", "whatif", "--scope", "team", "--key", "mail-assist", "--period", "daily",
          "--limit-usd", "0.0001", "--days", "30"},
         {"what-if: 1 proposed cap", "replayed:"});
  Expect({"budget", "ack", "team-mail-assist-monthly", "--by", "lead", "--reason", "e2e",
          "--extra-usd", "5", "--expires-in", "1h"},
         {"acknowledged team-mail-assist-monthly"});
  Expect({"budget", "acks"}, {"team-mail-assist-monthly"});
  // Deleting an enforced cap loosens it: only a proposal, which its maker may not approve
  // (exit 3, PERMISSION_DENIED) and a second key does (docs/BUDGETS.md, "Sign-off").
  Expect({"budget", "delete", "team-mail-assist-monthly", "--by", "e2e"},
         {"delete of cap team-mail-assist-monthly proposed as proposal"});
  Expect({"budget", "pending"}, {"for cap team-mail-assist-monthly (revision 1): delete"});
  Expect({"budget", "approve", "--id", "team-mail-assist-monthly"},
         {"approving proposal", "PERMISSION_DENIED", "second credential"}, 3);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets WHERE id = 'team-mail-assist-monthly'"), 1);
  const testing::TestKey approver = testing::CreateApproverKey(collector_->target());
  ASSERT_TRUE(testing::ApproveAllAs(approver, "team-mail-assist-monthly").ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budgets WHERE id = 'team-mail-assist-monthly'"), 0);
  Expect({"--version"}, {"stepledger "});
  Expect({"rollup", "--day", "2026-11-28", "--database-url", "postgresql://x"},
         {"unknown flag --database-url"}, 64);
}

// Long operations (Admin.StartRollUp / GetOperation): the CLI's rollup of two months shows its
// progress; another client polls the same operation by id; a rollup that finds the lock held
// ends ABORTED, which the CLI turns into exit 75; an unknown id is NOT_FOUND.
TEST_F(CliE2ETest, LongRollupsArePolledOperationsWithProgress) {
  Expect({"send", "examples/steps.jsonl"}, {"accepted 9"});
  const CliResult months = Cli({"rollup", "--from", "2026-10-01", "--to", "2026-11-29"});
  EXPECT_EQ(months.exit_code, 0) << months.output;
  EXPECT_NE(months.output.find("rollup: 60/60 days done (through 2026-11-29)"), std::string::npos)
      << months.output;
  EXPECT_NE(months.output.find("2026-11-28  rolled    steps 9"), std::string::npos)
      << months.output;
  EXPECT_EQ(db_.Count("SELECT count(*) FROM rollup_days"), 60);

  client::AdminClient admin(client::MakeCollectorChannel(collector_->target()));
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-28");
  request.mutable_range()->set_to("2026-11-28");
  absl::StatusOr<v1::Operation> started = admin.StartRollUp(request);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->units_total(), 1);
  // A second client (another CLI, a dashboard) knows the operation by its id alone.
  client::AdminClient other(client::MakeCollectorChannel(collector_->target()));
  v1::Operation polled;
  polled.set_id(started->id());
  absl::StatusOr<v1::Operation> done = other.Wait(polled, nullptr, absl::Milliseconds(50));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->kind(), "rollup");
  ASSERT_EQ(done->roll_up().days_size(), 1);
  EXPECT_FALSE(done->roll_up().days(0).first_roll());
  EXPECT_EQ(done->roll_up().days(0).source_rows(), 9);

  EXPECT_EQ(admin.GetOperation("0000000000000000").status().code(), absl::StatusCode::kNotFound);

  {
    // Holding the rollup lock (storage::kRollupLockKey) as a nightly job would.
    pqxx::connection holder(db_.url());
    pqxx::nontransaction t(holder);
    t.exec("SELECT pg_advisory_lock(x'5354504c524f4c4c'::bigint)");
    const CliResult locked = Cli({"rollup", "--day", "2026-11-28"});
    EXPECT_EQ(locked.exit_code, 75) << locked.output;
    EXPECT_NE(locked.output.find("ABORTED"), std::string::npos) << locked.output;
    EXPECT_NE(locked.output.find("holds the lock"), std::string::npos) << locked.output;
  }
}

// Budget what-if as a long operation (Admin.StartWhatIf): the CLI reads the history day by day
// and shows how far it got, and the report is the replay of every stored step.
TEST_F(CliE2ETest, WhatIfIsAPolledOperationWithProgress) {
  Expect({"send", "examples/steps.jsonl"}, {"accepted 9"});
  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  const CliResult whatif = Cli({"budget", "whatif", "--scope", "team", "--key", "mail-assist",
                                "--period", "daily", "--limit-usd", "0.0001", "--days", "90"});
  EXPECT_EQ(whatif.exit_code, 0) << whatif.output;
  EXPECT_NE(whatif.output.find("budget whatif: 91/91 days done (through " + today + ")"),
            std::string::npos)
      << whatif.output;
  EXPECT_NE(whatif.output.find("what-if: 1 proposed cap"), std::string::npos) << whatif.output;
  EXPECT_NE(whatif.output.find("(90 days)"), std::string::npos) << whatif.output;
  EXPECT_NE(whatif.output.find("replayed: 9 steps"), std::string::npos) << whatif.output;

  const CliResult bad = Cli({"budget", "whatif", "--scope", "team", "--key", "mail-assist",
                             "--period", "daily", "--limit-usd", "1", "--days", "401"});
  EXPECT_EQ(bad.exit_code, 64) << bad.output;
  EXPECT_NE(bad.output.find("--days must be 1..400"), std::string::npos) << bad.output;
}

TEST(VersionE2ETest, BothBinariesPrintTheirVersionAndGitRevision) {
  for (const std::string binary : {STEPLEDGER_CLI_BIN, STEPLEDGER_COLLECTOR_BIN}) {
    FILE* pipe = popen((binary + " --version 2>&1").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[256] = {};
    const size_t n = fread(buffer, 1, sizeof(buffer) - 1, pipe);
    const int status = pclose(pipe);
    EXPECT_EQ(WEXITSTATUS(status), 0) << binary;
    const std::string out(buffer, n);
    EXPECT_NE(out.find(" 0."), std::string::npos) << binary << ": " << out;
    // The revision the build embedded: this test runs in the git checkout it was built from.
    EXPECT_TRUE(std::regex_search(out, std::regex(R"( \(git [0-9a-f]{7,}\)\n$)")))
        << binary << ": " << out;
    EXPECT_EQ(out.find("usage"), std::string::npos) << binary << ": " << out;
  }
}

}  // namespace
}  // namespace stepledger
