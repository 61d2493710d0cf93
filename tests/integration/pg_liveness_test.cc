// The liveness watchdog (issue 21; storage/pg_liveness.h): a server that stops answering while
// its kernel still ACKs is cut within interval + timeout; a live server is never cut, not even
// during a statement slower than the timeout.
#include "server/storage/pg_liveness.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/storage/pg_connection.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger::storage {
namespace {

using Clock = std::chrono::steady_clock;

// A TCP listener that never accepts: the kernel completes handshakes and ACKs whatever is
// sent, and no byte ever comes back, as from a SIGSTOPped PostgreSQL.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(listen(fd_, 16), 0);
  }
  ~SilentServer() { close(fd_); }
  int port() const { return port_; }

  int Connect() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(LivenessWatchdogTest, ASilentServerIsCutWithinIntervalPlusTimeout) {
  SilentServer server;
  const int client = server.Connect();
  // A query on its way, as a writer's COMMIT would be: ACKed, never answered.
  ASSERT_EQ(send(client, "Q", 1, 0), 1);
  ConnectionRegistry registry;
  const std::string name = absl::StrCat("127.0.0.1:", server.port());
  registry.Add(dup(client), name,
               absl::StrCat("host=127.0.0.1 port=", server.port(), " user=u dbname=d"));
  ASSERT_EQ(registry.Servers().size(), 1u);

  const auto start = Clock::now();
  LivenessWatchdog watchdog(registry,
                            {.interval = absl::Milliseconds(200), .timeout = absl::Seconds(1)});
  // The owner's view: blocked waiting for the answer, woken by the cut.
  pollfd p{.fd = client, .events = POLLIN, .revents = 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "the silent server's connection was never cut";
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  char byte;
  EXPECT_EQ(recv(client, &byte, 1, 0), 0);  // end of stream: the socket was shut down
  // interval + timeout = 1.2 s; the rest is slack for a loaded machine.
  EXPECT_LT(waited, 4.0);
  EXPECT_GT(waited, 0.9);                   // not before the timeout
  EXPECT_TRUE(registry.Servers().empty());  // cut connections are not probed again
  close(client);
}

TEST(LivenessWatchdogTest, ALiveServerIsNotCutEvenDuringAStatementLongerThanTheTimeout) {
  testing::TestDatabase db;
  PgConnection conn(db.url());
  LivenessWatchdog watchdog(ConnectionRegistry::Global(),
                            {.interval = absl::Milliseconds(100), .timeout = absl::Seconds(1)});
  pqxx::nontransaction txn(conn);
  EXPECT_NO_THROW(txn.exec("SELECT pg_sleep(2.5)"));
  EXPECT_EQ(txn.exec1("SELECT 41 + 1")[0].as<int>(), 42);
}

TEST(LivenessWatchdogTest, APgConnectionRegistersTheServerItReachedUntilItCloses) {
  testing::TestDatabase db;
  auto count = [](const std::string& server) {
    int n = 0;
    for (const auto& s : ConnectionRegistry::Global().Servers()) {
      if (s.server == server) n += s.connections;
    }
    return n;
  };
  std::string server;
  int before = 0;
  {
    PgConnection conn(db.url(), "test");
    server = conn.server();
    EXPECT_EQ(server.rfind("127.0.0.1:", 0), 0u) << server;
    before = count(server);
    EXPECT_GE(before, 1);
  }
  EXPECT_EQ(count(server), before - 1);
}

}  // namespace
}  // namespace stepledger::storage
