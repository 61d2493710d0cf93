// Small in-code price books for the pricing_app tests.
#ifndef STEPLEDGER_TESTS_UNIT_PRICING_APP_TEST_BOOK_H_
#define STEPLEDGER_TESTS_UNIT_PRICING_APP_TEST_BOOK_H_

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/pricing/price_book.h"

namespace stepledger::testing {

// Rates in femto-USD per token (== nano-USD per million tokens).
inline domain::pricing::ModelPrice TestModel(const std::string& name,
                                             domain::pricing::FemtoUsd input,
                                             domain::pricing::FemtoUsd output) {
  domain::pricing::ModelPrice p;
  p.name = name;
  p.provider = "openai";
  p.mode = "chat";
  p.tiers[domain::pricing::ServiceTier::kStandard].base.input = input;
  p.tiers[domain::pricing::ServiceTier::kStandard].base.output = output;
  return p;
}

inline domain::pricing::PriceVersion TestVersion(const std::string& id, absl::Time from,
                                                 std::vector<domain::pricing::ModelPrice> models) {
  domain::pricing::PriceVersion v;
  v.id = id;
  v.effective_from = from;
  for (auto& m : models) v.models.emplace(m.name, std::move(m));
  return v;
}

inline domain::pricing::PriceBook TestBook(std::vector<domain::pricing::PriceVersion> versions) {
  domain::pricing::PriceBook book;
  for (auto& v : versions) EXPECT_TRUE(book.Add(std::move(v)).ok());
  return book;
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_UNIT_PRICING_APP_TEST_BOOK_H_
