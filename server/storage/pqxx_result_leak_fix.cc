// Plugs a libpq result leak in libpqxx 6.4 (Debian 12's libpqxx-6.4) when a connection breaks
// during a statement, for example when PostgreSQL stops while a write group is in flight.
//
// libpqxx wraps every PGresult with connection_base::make_result(PQexec...(), query), and
// make_result asks encoding_id() for the client encoding *before* the result object owns the
// PGresult. On a broken connection PQclientEncoding() returns -1, encoding_id() throws
// broken_connection, and the PGresult (the error that said the connection broke) is never
// PQclear()ed: LeakSanitizer reports it under `make asan`, and every outage leaks a few KiB per
// connection. Upstream fixed it in libpqxx 7 (jtv/libpqxx#500); Debian 12 ships 6.4.5.
//
// The fix: this definition of PQclientEncoding() takes precedence over libpq's for libpqxx (the
// executable's symbols come first in dynamic lookup). It returns libpq's answer, except that
// on a connection that is no longer usable it returns 0 (SQL_ASCII) instead of -1, so
// make_result() wraps the PGresult, which is then freed normally, and check_result() right
// after it throws the same pqxx::broken_connection as before (storage/pg_status.h maps it).
// Nothing is read in that encoding: a broken connection's result holds only an error.
//
// The linker is told to pull this file out of the static library
// (server/storage/CMakeLists.txt: --undefined=PQclientEncoding), since only libpqxx calls it.
// Tested by the outage e2e test under `make asan` (tests/e2e/ingest_e2e_test.cc,
// DatabaseOutageGivesUnavailableAndNothingUnackedIsClaimedStored).
//
// Thread safety: as libpq's own function; the real function is looked up once (a static).
#include <dlfcn.h>

struct pg_conn;  // libpq's PGconn; libpq-fe.h is not included, to declare the symbol freely

extern "C" int PQclientEncoding(const pg_conn* conn) {
  using Fn = int (*)(const pg_conn*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "PQclientEncoding"));
  const int encoding = real(conn);
  // -1 with a connection object means "not CONNECTION_OK": broken, closed or never opened.
  return encoding == -1 && conn != nullptr ? 0 : encoding;
}
