// A fresh, empty PostgreSQL database per test, created next to the one named by
// STEPLEDGER_TEST_DATABASE_URL and dropped afterwards. Tests fail (never skip) without it.
#ifndef STEPLEDGER_TESTS_FAKES_PG_TEST_DB_H_
#define STEPLEDGER_TESTS_FAKES_PG_TEST_DB_H_

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::testing {

inline std::string BaseTestDatabaseUrl() {
  const char* url = std::getenv("STEPLEDGER_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "STEPLEDGER_TEST_DATABASE_URL is not set: run the tests through `make test`,"
                     " which starts a throwaway PostgreSQL";
    return "";
  }
  return url;
}

// Replaces the database name (the URL's last path segment).
inline std::string WithDatabase(const std::string& url, const std::string& db) {
  const size_t slash = url.rfind('/');
  return url.substr(0, slash + 1) + db;
}

class TestDatabase {
 public:
  TestDatabase() {
    base_ = BaseTestDatabaseUrl();
    if (base_.empty()) return;
    std::random_device rd;
    name_ = "t_" + std::to_string(rd()) + std::to_string(rd());
    pqxx::connection admin(base_);
    pqxx::nontransaction txn(admin);
    txn.exec("CREATE DATABASE " + name_);
    url_ = WithDatabase(base_, name_);
  }
  ~TestDatabase() {
    if (name_.empty()) return;
    try {
      pqxx::connection admin(base_);
      pqxx::nontransaction txn(admin);
      txn.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // Best effort: the throwaway cluster is deleted after the run anyway.
    }
  }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs a query returning one integer.
  int64_t Count(const std::string& sql) const {
    pqxx::connection c(url_);
    pqxx::nontransaction txn(c);
    return txn.exec1(sql)[0].as<int64_t>();
  }
  void Exec(const std::string& sql) const {
    pqxx::connection c(url_);
    pqxx::nontransaction txn(c);
    txn.exec(sql);
  }

 private:
  std::string base_;
  std::string name_;
  std::string url_;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_PG_TEST_DB_H_
