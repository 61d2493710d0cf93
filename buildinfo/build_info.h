// What `--version` prints, for both binaries: the project version and the git revision the
// binary was built from (generated at build time, buildinfo/CMakeLists.txt). Neither server
// nor client code: both link it.
//
// Thread safety: constant data.
#ifndef STEPLEDGER_BUILDINFO_BUILD_INFO_H_
#define STEPLEDGER_BUILDINFO_BUILD_INFO_H_

#include <string>
#include <string_view>

namespace stepledger::build_info {

const char* Version();      // "0.1.0"
const char* GitRevision();  // "1a2b3c4", or "unknown" when not built from a git checkout.

// "0.1.0 (git 1a2b3c4)".
std::string VersionText();

}  // namespace stepledger::build_info

#endif  // STEPLEDGER_BUILDINFO_BUILD_INFO_H_
