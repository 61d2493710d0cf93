// What text the ledger can store, and how text it cannot store is shown instead.
//
// PostgreSQL's text (and jsonb) in a UTF8 database accepts only well-formed UTF-8 without NUL
// bytes; a value outside that makes the whole transaction fail. Protobuf guarantees UTF-8 only
// for messages it parsed as `string` fields, and allows NUL; the collector reads batches
// leniently (step_wire.proto) so that one bad event is quarantined instead of ending the
// stream. Every text field therefore passes IsStorableText before it is stored as itself, and
// text that fails it is kept as EscapeUnstorable's rendering (quarantine rows, rejection
// reasons, acks).
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_TEXT_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_TEXT_H_

#include <string>
#include <string_view>

namespace stepledger::domain::ingest {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF) without NUL.
bool IsStorableText(std::string_view text);

// `text` unchanged when IsStorableText; otherwise every byte that is not part of a well-formed
// non-NUL UTF-8 sequence, and every backslash, becomes "\xNN" ("\x5c" for a backslash), so that
// the rendering is storable and tells the original bytes back unambiguously.
std::string EscapeUnstorable(std::string_view text);

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_TEXT_H_
