#include "server/storage/lazy_pg_connection.h"

#include "absl/strings/str_cat.h"

namespace stepledger::storage {

LazyPgConnection::LazyPgConnection(std::string url, std::string purpose)
    : url_(std::move(url)), purpose_(std::move(purpose)) {}

LazyPgConnection::~LazyPgConnection() = default;

absl::Status LazyPgConnection::OpenIfClosed() {
  if (conn_ != nullptr && conn_->is_open()) return absl::OkStatus();
  try {
    conn_ = std::make_unique<PgConnection>(url_, purpose_);
  } catch (...) {
    conn_.reset();
    return CurrentExceptionToStatus(absl::StrCat("connect (", purpose_, ")"));
  }
  return absl::OkStatus();
}

}  // namespace stepledger::storage
