// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// and both absl::StrCat and the heterogeneous lookup of absl's std::string-keyed hash maps
// accept only that type. The budget code speaks std::string_view; this converts, without
// allocating.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_STRING_KEY_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_STRING_KEY_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace stepledger::domain::budget {

inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_STRING_KEY_H_
