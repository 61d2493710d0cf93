#include "client/cli/send_command.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "client/cli/flags.h"
#include "client/lib/jsonl.h"
#include "client/lib/send_all.h"

namespace stepledger::client {
namespace {

constexpr char kUsage[] =
    "usage: stepledger send [--batch-size N] [--streams S] [--unacked-out FILE] FILE|-\n"
    "\n"
    "Streams FILE (JSON Lines, one StepEvent per line in protobuf's JSON mapping; - for stdin)\n"
    "to the collector and prints what it acknowledged.\n"
    "\n"
    "  --batch-size N       events per batch, 1..1000 (default 500)\n"
    "  --streams S          parallel streams; each run's steps stay on one (default 1)\n"
    "  --unacked-out FILE   on failure, write the events that were not acknowledged to FILE\n"
    "                       (JSON Lines) so they can be re-sent\n"
    "\n"
    "Exit status: 0 all stored, 2 some rejected, 3 transport failure or unacknowledged\n"
    "batches, 64 usage error, 65 malformed input, 66 input not readable.\n";

// Above this many rejections, identical (field, reason) pairs are grouped with a count.
constexpr size_t kListEachRejectionUpTo = 10;
// Example event ids shown per group.
constexpr size_t kExampleIdsPerGroup = 3;

struct SendFlags {
  SendOptions send;
  std::string file;
  std::string unacked_out;
  bool help = false;
};

// Returns the flags, or an error message for the usage error.
absl::StatusOr<SendFlags> ParseSendFlags(const std::vector<std::string>& args) {
  SendFlags flags;
  std::vector<std::string> positional;
  CLI::App app("stepledger send");
  app.add_option("--batch-size", flags.send.stream.batch_size, "events per batch");
  app.add_option("--streams", flags.send.streams, "parallel streams");
  app.add_option("--unacked-out", flags.unacked_out, "where to write unacknowledged events");
  app.add_option("FILE", positional, "JSON Lines, - for stdin");
  absl::StatusOr<bool> help = ParseArgsInto(app, args);
  if (!help.ok()) return help.status();
  if (*help) {
    flags.help = true;
    return flags;
  }
  if (positional.size() != 1) {
    return absl::InvalidArgumentError(positional.empty() ? "missing FILE (use - for stdin)"
                                                         : "expected exactly one FILE");
  }
  flags.file = positional.front();
  if (flags.send.streams < 1) return absl::InvalidArgumentError("--streams must be >= 1");
  if (absl::Status valid = ValidateStreamOptions(flags.send.stream); !valid.ok()) {
    return absl::InvalidArgumentError(std::string(valid.message()));
  }
  return flags;
}

void PrintRejections(const std::vector<stepledger::v1::Rejection>& rejections, std::ostream& out) {
  if (rejections.size() <= kListEachRejectionUpTo) {
    for (const auto& r : rejections) {
      out << "  " << r.event_id() << " " << r.field() << ": " << r.reason() << '\n';
    }
    return;
  }
  // Many rejections usually share a few causes (one missing tag across a whole feature):
  // show each cause once, biggest first, with a few ids to look up.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> groups;
  for (const auto& r : rejections) groups[{r.field(), r.reason()}].push_back(r.event_id());
  std::vector<const decltype(groups)::value_type*> ordered;
  for (const auto& group : groups) ordered.push_back(&group);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](auto* a, auto* b) { return a->second.size() > b->second.size(); });
  for (const auto* group : ordered) {
    const std::vector<std::string>& ids = group->second;
    std::vector<std::string> examples(ids.begin(),
                                      ids.begin() + std::min(ids.size(), kExampleIdsPerGroup));
    out << "  " << ids.size() << " x " << group->first.first << ": " << group->first.second
        << " (e.g. " << absl::StrJoin(examples, ", ")
        << (ids.size() > examples.size() ? ", ..." : "") << ")\n";
  }
}

}  // namespace

int RunSendCommand(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<SendFlags> flags = ParseSendFlags(args);
  if (!flags.ok()) {
    context.err << "stepledger send: " << flags.status().message() << "\n\n" << kUsage;
    return kExitUsage;
  }
  if (flags->help) {
    context.out << kUsage;
    return kExitOk;
  }

  absl::StatusOr<std::vector<stepledger::v1::StepEvent>> events;
  if (flags->file == "-") {
    events = ParseJsonLines(context.in);
  } else {
    std::ifstream file(flags->file);
    if (!file) {
      context.err << "stepledger send: cannot open " << flags->file << ": " << std::strerror(errno)
                  << '\n';
      return kExitNoInput;
    }
    events = ParseJsonLines(file);
  }
  const std::string source = flags->file == "-" ? "<stdin>" : flags->file;
  if (!events.ok()) {
    context.err << "stepledger send: " << source << ": " << events.status().message()
                << "\nnothing was sent\n";
    return kExitDataError;
  }

  StreamResult result = SendAll(context.target, *events, flags->send);

  context.out << "accepted " << result.totals.accepted << ", duplicates "
              << result.totals.duplicates << ", rejected " << result.totals.rejected << '\n';
  PrintRejections(result.rejections, context.out);

  if (!result.all_acked()) {
    context.err << "stepledger send: stream to " << context.target
                << " failed: " << result.status.ToString() << '\n'
                << result.unacked_events.size() << " of " << events->size()
                << " events were not acknowledged and may not be stored; send them again "
                   "(re-sending acknowledged events is harmless: they count as duplicates)\n";
    if (!flags->unacked_out.empty() && !result.unacked_events.empty()) {
      std::ofstream out(flags->unacked_out);
      absl::Status written = out ? WriteJsonLines(result.unacked_events, out)
                                 : absl::NotFoundError(std::strerror(errno));
      if (written.ok()) {
        context.err << "unacknowledged events written to " << flags->unacked_out << '\n';
      } else {
        context.err << "could not write " << flags->unacked_out << ": " << written.message()
                    << '\n';
      }
    }
    return kExitTransport;
  }
  if (result.totals.rejected > 0) {
    context.err << "stepledger send: " << result.totals.rejected
                << " event(s) rejected; fix them and send again\n";
    return kExitRejected;
  }
  return kExitOk;
}

}  // namespace stepledger::client
