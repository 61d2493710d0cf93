// `stepledger send` end to end in process: the command against the fake collector, with string
// streams for stdin/stdout/stderr.
#include "client/cli/send_command.h"

#include <sstream>

#include "client/cli/dispatcher.h"
#include "client/lib/jsonl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/fake_collector.h"
#include "tests/unit/client/test_events.h"

namespace stepledger::client {
namespace {

using ::stepledger::testing::FakeCollectorOptions;
using ::stepledger::testing::FakeCollectorServer;
using ::stepledger::testing::MakeEvent;
using ::stepledger::testing::MakeEvents;
using ::testing::HasSubstr;

struct CommandRun {
  int exit_code;
  std::string out;
  std::string err;
};

CommandRun Send(const std::string& target, const std::string& input,
                std::vector<std::string> args) {
  std::istringstream in(input);
  std::ostringstream out, err;
  int code = RunSendCommand(CliContext{target, in, out, err}, args);
  return {code, out.str(), err.str()};
}

std::string JsonLines(const std::vector<v1::StepEvent>& events) {
  std::ostringstream out;
  EXPECT_TRUE(WriteJsonLines(events, out).ok());
  return out.str();
}

TEST(SendCommandTest, AllStoredPrintsTotalsAndExitsZero) {
  FakeCollectorServer server;
  CommandRun run = Send(server.target(), JsonLines(MakeEvents(12)), {"--batch-size", "5", "-"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "accepted 12, duplicates 0, rejected 0\n");
}

TEST(SendCommandTest, RejectionsArePrintedAndExitTwo) {
  FakeCollectorServer server;
  std::vector<v1::StepEvent> events = MakeEvents(3);
  events.push_back(MakeEvent("bad-7"));
  CommandRun run = Send(server.target(), JsonLines(events), {"--streams=2", "-"});
  EXPECT_EQ(run.exit_code, kExitRejected);
  EXPECT_THAT(run.out, HasSubstr("accepted 3, duplicates 0, rejected 1\n"));
  EXPECT_THAT(run.out, HasSubstr("  bad-7 tags.team: required in production\n"));
}

TEST(SendCommandTest, ManyIdenticalRejectionsAreGroupedWithACount) {
  FakeCollectorServer server;
  CommandRun run = Send(server.target(), JsonLines(MakeEvents(25, "bad-")), {"-"});
  EXPECT_EQ(run.exit_code, kExitRejected);
  EXPECT_THAT(run.out, HasSubstr("  25 x tags.team: required in production (e.g. bad-0, bad-1, "
                                 "bad-2, ...)\n"));
}

TEST(SendCommandTest, TransportFailureExitsThreeAndWritesUnackedEvents) {
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 1, .fail_after_acks = 1});
  const std::string unacked_path = ::testing::TempDir() + "/unacked.jsonl";
  CommandRun run = Send(server.target(), JsonLines(MakeEvents(30)),
                        {"--batch-size", "10", "--unacked-out", unacked_path, "-"});
  EXPECT_EQ(run.exit_code, kExitTransport);
  EXPECT_THAT(run.out, HasSubstr("accepted 10, duplicates 0, rejected 0"));
  EXPECT_THAT(run.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(run.err, HasSubstr("20 of 30 events were not acknowledged"));

  // The unacked events are a valid input for the next `send`.
  CommandRun resend = Send(server.target(), "", {unacked_path});
  EXPECT_EQ(resend.exit_code, kExitOk) << resend.err;
  EXPECT_EQ(resend.out, "accepted 20, duplicates 0, rejected 0\n");
}

TEST(SendCommandTest, MalformedLineSendsNothingAndNamesTheLine) {
  FakeCollectorServer server;
  CommandRun run = Send(server.target(), JsonLines(MakeEvents(1)) + "{not json\n", {"-"});
  EXPECT_EQ(run.exit_code, kExitDataError);
  EXPECT_THAT(run.err, HasSubstr("<stdin>: line 2: "));
  EXPECT_THAT(run.err, HasSubstr("nothing was sent"));
}

TEST(SendCommandTest, UsageErrorsExitSixtyFour) {
  EXPECT_EQ(Send("x:1", "", {}).exit_code, kExitUsage);
  EXPECT_EQ(Send("x:1", "", {"--batch-size", "0", "-"}).exit_code, kExitUsage);
  EXPECT_EQ(Send("x:1", "", {"--streams", "two", "-"}).exit_code, kExitUsage);
  EXPECT_EQ(Send("x:1", "", {"--bogus", "-"}).exit_code, kExitUsage);
  EXPECT_EQ(Send("x:1", "", {"a.jsonl", "b.jsonl"}).exit_code, kExitUsage);
  EXPECT_EQ(Send("x:1", "", {"/nonexistent/steps.jsonl"}).exit_code, kExitNoInput);
}

int FakeCommand(const CliContext& context, const std::vector<std::string>& args) {
  context.out << context.target << " " << args.size();
  return 7;
}

TEST(DispatcherTest, RoutesToTheCommandWithTargetAndItsArgs) {
  const Command commands[] = {{"fake", "a fake", &FakeCommand}};
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(commands, {"--target=h:9", "fake", "a", "b"}, "d:1", "9.9.9", in, out, err),
            7);
  EXPECT_EQ(out.str(), "h:9 2");
}

TEST(DispatcherTest, HelpListsCommandsAndUnknownCommandIsUsageError) {
  const Command commands[] = {{"fake", "a fake command", &FakeCommand}};
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(commands, {"--help"}, "d:1", "9.9.9", in, out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("fake  a fake command"));
  EXPECT_EQ(Dispatch(commands, {"help"}, "d:1", "9.9.9", in, out, err), kExitOk);
  EXPECT_EQ(Dispatch(commands, {"nope"}, "d:1", "9.9.9", in, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("unknown command 'nope'"));
  EXPECT_EQ(Dispatch(commands, {}, "d:1", "9.9.9", in, out, err), kExitUsage);
  EXPECT_EQ(Dispatch(commands, {"--target"}, "d:1", "9.9.9", in, out, err), kExitUsage);
}

TEST(DispatcherTest, GlobalFlagsAreParsedByTheFlagLibraryAndStopAtTheCommand) {
  const Command commands[] = {{"fake", "a fake", &FakeCommand}};
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(commands, {"--bogus", "fake"}, "d:1", "9.9.9", in, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("stepledger: unknown flag --bogus"));
  // Both spellings of --target; flags after the command are the command's, even --target.
  EXPECT_EQ(Dispatch(commands, {"--target", "h:1", "fake", "--target", "x", "--help"}, "d:1",
                     "9.9.9", in, out, err),
            7);
  EXPECT_EQ(out.str(), "h:1 3");
  out.str("");
  EXPECT_EQ(Dispatch(commands, {"--version"}, "d:1", "9.9.9 (git abc1234)", in, out, err), kExitOk);
  EXPECT_EQ(out.str(), "stepledger 9.9.9 (git abc1234)\n");
  EXPECT_EQ(Dispatch(commands, {"--target="}, "d:1", "9.9.9", in, out, err), kExitUsage);
}

}  // namespace
}  // namespace stepledger::client
