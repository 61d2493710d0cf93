// The one home of the rule "how an instant or a day is written as text" for storage: bound SQL
// parameters, COPY rows and the JSON kept in jsonb columns all format time here, so that a year
// below 1000 is always written with four digits ("0001-01-01"). PostgreSQL reads an unpadded
// "1-01-01" as the year 2001, which is why no other formatter may be used for SQL text.
//
// All output is UTC. Fractions are truncated, never rounded (rounding up could move an instant
// to the next second, day or year).
//
// Thread safety: pure functions; no time-zone library calls (the write path formats several
// timestamps per stored step, and absl::FormatTime was 7% of the collector's CPU under load).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_TIME_H_
#define STEPLEDGER_SERVER_STORAGE_PG_TIME_H_

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace stepledger::storage {

// A timestamptz literal with microsecond precision: "2026-11-28 11:33:08.123456+00".
//   years 1..9999          zero-padded to four digits ("0001-01-01 00:00:00.000000+00")
//   years after 9999       all their digits ("12000-01-01 ...", which PostgreSQL accepts)
//   years 0 and before     PostgreSQL's era suffix: astronomical year 0 is "0001-... BC"
//   absl's infinities      "infinity" / "-infinity"
// Ingest validation keeps client timestamps inside PostgreSQL's range; the wider cases are here
// so that the formatter is correct for every absl::Time, not only for validated ones.
std::string PgTimestamp(absl::Time t);
// The same text appended to `out`: the COPY writer formats several timestamps per stored step
// and appends them to its row without a temporary string each.
void AppendPgTimestamp(std::string& out, absl::Time t);

// A date literal: "2026-11-28" (years padded as above; only years 1..9999 are expected).
std::string PgDate(absl::CivilDay day);

// RFC 3339 in UTC for JSON documents: "2026-11-28T11:33:08.123456789+00:00", the text of
// absl::RFC3339_full (nanoseconds, trailing zeros dropped) except that the year always has four
// digits. Years outside 0..9999 have no RFC 3339 form; they are written ISO 8601 style with a
// sign ("-0001-...", "+12000-...") so that the text still says which instant it was.
std::string Rfc3339Utc(absl::Time t);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_TIME_H_
