// Property test: production attribution (the write path's SQL, storage/ledger_queries.h) agrees
// with the rule as written in plain C++ (domain/runs/attribution.h) for every step of random
// runs: charged tags, attribution_status and tag_drift. The runs are perturbed so that every
// case of the rule occurs (drift in each field, a tool step tagged with its owner's team,
// partly tagged steps, a step's own workload class), and their steps arrive shuffled across
// runs, in groups, and across a restart, so roots come before, with and after their steps.
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/runs/attribution.h"
#include "server/storage/migrator.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/run_generator.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::Step;
using domain::Tags;

// One perturbation per step, chosen by the generator's own deterministic draws.
void Perturb(testing::RunGenerator& rng, const Tags& root, Step& s) {
  if (s.parent_step_id.empty()) return;  // A root is as generated: fully tagged.
  switch (rng.Uniform(8)) {
    case 0:  // Fully tagged, drifting in one field.
      s.tags = root;
      switch (rng.Uniform(3)) {
        case 0:
          s.tags.feature = "summarizer";
          break;
        case 1:
          s.tags.team = "billing";
          break;
        default:
          s.tags.tenant = "globex";
      }
      break;
    case 1:  // A tool step tagged with its owner's team (drift, decided in issue 16).
      if (s.kind == domain::StepKind::kToolCall) {
        s.tags = root;
        s.tags.team = s.tool_owner_team;
      }
      break;
    case 2:  // Partly tagged with a value of its own: inherits the rest, not checked.
      s.tags = Tags{};
      s.tags.environment = root.environment;
      s.tags.parent_run_id = root.parent_run_id;
      s.tags.feature = rng.Uniform(2) == 0 ? root.feature : "summarizer";
      break;
    case 3:  // Fully tagged in another class of work than the run's.
      s.tags = root;
      s.tags.workload_class = root.workload_class == domain::WorkloadClass::kBatch
                                  ? domain::WorkloadClass::kEval
                                  : domain::WorkloadClass::kBatch;
      break;
    default:  // As generated: the root's tags, or only the run id below a tool.
      break;
  }
}

struct Stored {
  std::string status, feature, team, tenant, workload_class;
  bool drift = false;
};

std::map<std::string, Stored> ReadLedger(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction t(c);
  std::map<std::string, Stored> out;
  for (const pqxx::row& r :
       t.exec("SELECT event_id, attribution_status, charged_feature, charged_team, "
              "charged_tenant, charged_workload_class, tag_drift FROM steps")) {
    out[r[0].as<std::string>()] = {r[1].as<std::string>(), r[2].as<std::string>(),
                                   r[3].as<std::string>(), r[4].as<std::string>(),
                                   r[5].as<std::string>(), r[6].as<bool>()};
  }
  return out;
}

TEST(AttributionOracleTest, SqlAttributionAgreesWithTheRuleForEveryStepOfRandomRuns) {
  for (uint64_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE(seed);
    testing::TestDatabase db;  // A fresh database per seed.
    ASSERT_FALSE(db.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db.url()).ok());
    testing::RunGeneratorOptions options;
    options.start = absl::Now() - absl::Hours(30);
    options.max_steps = 80;
    testing::RunGenerator generator(seed, options);
    std::map<std::string, Tags> roots;  // run id -> root tags
    std::vector<Step> all;
    for (int i = 0; i < 25; ++i) {
      testing::GeneratedRun run = generator.Next();
      roots[run.run_id] = run.root_tags;
      for (Step& s : run.steps) {
        Perturb(generator, run.root_tags, s);
        all.push_back(std::move(s));
      }
    }
    generator.Shuffle(all);

    // Two write paths in turn: the second is a restart with nothing in memory.
    const size_t half = all.size() / 2;
    for (size_t part = 0; part < 2; ++part) {
      testing::WritePath path(db.url());
      const size_t end = part == 0 ? half : all.size();
      for (size_t i = part == 0 ? 0 : half; i < end; i += 37) {
        std::vector<Step> group(all.begin() + i, all.begin() + std::min(end, i + 37));
        domain::ingest::BatchResult r = path.Send(group);
        ASSERT_TRUE(r.rejected.empty()) << r.rejected[0].field << ": " << r.rejected[0].reason;
      }
    }

    const std::map<std::string, Stored> ledger = ReadLedger(db.url());
    ASSERT_EQ(ledger.size(), all.size());
    int drift = 0, inherited = 0;
    for (const Step& s : all) {
      absl::StatusOr<domain::runs::Attribution> want =
          domain::runs::ResolveAttribution(s, roots.at(s.tags.parent_run_id));
      ASSERT_TRUE(want.ok()) << want.status();
      const Stored& got = ledger.at(s.event_id);
      SCOPED_TRACE("step " + s.step_id + " of " + s.tags.parent_run_id);
      EXPECT_EQ(got.status, domain::ToString(want->status));
      EXPECT_EQ(got.feature, want->charged.feature);
      EXPECT_EQ(got.team, want->charged.team);
      EXPECT_EQ(got.tenant, want->charged.tenant);
      EXPECT_EQ(got.workload_class, domain::ToString(want->charged.workload_class));
      EXPECT_EQ(got.drift, want->tag_drift());
      drift += want->tag_drift();
      inherited += want->status == domain::AttributionStatus::kInherited;
    }
    // The perturbations reached the cases they are there for.
    EXPECT_GT(drift, 10);
    EXPECT_GT(inherited, 10);
  }
}

}  // namespace
}  // namespace stepledger
