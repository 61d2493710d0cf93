// Reads a JSON document shaped as an object of objects ({"name": {"key": value, ...}, ...})
// into its two top levels, keeping every scalar's original text. Numbers stay text so that
// decimal prices can be converted exactly; a double would already have rounded them.
// Values nested deeper than the second level are recorded only as kComposite.
//
// Internal to the catalog loaders.
// Thread safety: pure function.
#ifndef STEPLEDGER_SERVER_CATALOG_RAW_JSON_ENTRIES_H_
#define STEPLEDGER_SERVER_CATALOG_RAW_JSON_ENTRIES_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stepledger::catalog {

struct RawValue {
  enum class Kind { kNumber, kString, kBool, kNull, kComposite };
  Kind kind = Kind::kNull;
  std::string text;  // number as written; string unescaped; "true"/"false"; empty otherwise
};

struct RawEntry {
  std::string name;
  // nullopt when the top-level value is not an object.
  std::optional<std::vector<std::pair<std::string, RawValue>>> fields;
};

// Errors: InvalidArgument on malformed JSON (with byte offset), a top level that is not an
// object, a repeated top-level name, or a repeated key inside one entry.
absl::StatusOr<std::vector<RawEntry>> ReadRawJsonEntries(absl::string_view json_text);

absl::string_view ToString(RawValue::Kind kind);

}  // namespace stepledger::catalog

#endif  // STEPLEDGER_SERVER_CATALOG_RAW_JSON_ENTRIES_H_
