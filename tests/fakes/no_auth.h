// Services under unit test take an Authorizer; these tests are about the services' own work,
// so every caller is an unrestricted admin (as with --insecure-no-auth). Authorization itself
// is tested in tests/unit/auth and the e2e authorization matrix.
#ifndef STEPLEDGER_TESTS_FAKES_NO_AUTH_H_
#define STEPLEDGER_TESTS_FAKES_NO_AUTH_H_

#include "server/transport/authorizer.h"

namespace stepledger::testing {

inline const transport::Authorizer& NoAuth() {
  static const auto* const kNoAuth = new transport::Authorizer(transport::Authorizer::NoAuth());
  return *kNoAuth;
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_NO_AUTH_H_
