#include "buildinfo/build_info.h"

namespace stepledger::build_info {

std::string VersionText() { return std::string(Version()) + " (git " + GitRevision() + ")"; }

}  // namespace stepledger::build_info
