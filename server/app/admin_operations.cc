#include "server/app/admin_operations.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace stepledger::app {
namespace {

// "host:pid": which collector runs an operation, for the operator reading the table or an
// "abandoned" message.
std::string ThisReplica() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] == '\0' ? "unknown-host" : host, ":", getpid());
}

}  // namespace

AdminOperations::AdminOperations(const std::string& database_url, const domain::Clock& clock,
                                 absl::Duration heartbeat_interval)
    : store_(database_url),
      registry_(clock, {.owner = ThisReplica()}, &store_),
      heartbeat_(heartbeat_interval, [this] {
        if (absl::Status s = registry_.Heartbeat(); !s.ok()) {
          log::Warn("admin operations heartbeat failed", {{"error", std::string(s.message())}});
        }
      }) {}

}  // namespace stepledger::app
