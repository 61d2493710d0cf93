#include "server/domain/pricing/price_book.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace stepledger::domain::pricing {
namespace {

const absl::Time kJan =
    absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 0), absl::UTCTimeZone());
const absl::Time kFeb =
    absl::FromCivil(absl::CivilSecond(2026, 2, 1, 0, 0, 0), absl::UTCTimeZone());
const absl::Time kMar =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 0, 0, 0), absl::UTCTimeZone());

PriceVersion Version(std::string id, absl::Time from) {
  PriceVersion v;
  v.id = std::move(id);
  v.effective_from = from;
  return v;
}

TEST(PriceBookTest, PicksGreatestEffectiveFromNotAfterTheTime) {
  PriceBook book;
  // Added out of order on purpose: the book orders by effective_from.
  ASSERT_TRUE(book.Add(Version("v3", kMar)).ok());
  ASSERT_TRUE(book.Add(Version("v1", kJan)).ok());
  ASSERT_TRUE(book.Add(Version("v2", kFeb)).ok());

  EXPECT_EQ(book.VersionAt(kJan - absl::Nanoseconds(1)), nullptr);
  EXPECT_EQ(book.VersionAt(kJan)->id, "v1");  // in force from its first instant
  EXPECT_EQ(book.VersionAt(kFeb - absl::Nanoseconds(1))->id, "v1");
  EXPECT_EQ(book.VersionAt(kFeb)->id, "v2");
  EXPECT_EQ(book.VersionAt(kMar - absl::Nanoseconds(1))->id, "v2");
  EXPECT_EQ(book.VersionAt(kMar)->id, "v3");
  EXPECT_EQ(book.VersionAt(absl::InfiniteFuture())->id, "v3");
  ASSERT_EQ(book.versions().size(), 3u);
  EXPECT_EQ(book.versions().front().id, "v1");
  EXPECT_EQ(book.VersionById("v2")->effective_from, kFeb);
  EXPECT_EQ(book.VersionById("nope"), nullptr);
}

TEST(PriceBookTest, RejectsDuplicateIdsAndSimultaneousVersions) {
  PriceBook book;
  ASSERT_TRUE(book.Add(Version("v1", kJan)).ok());
  EXPECT_EQ(book.Add(Version("v1", kFeb)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(book.Add(Version("v2", kJan)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(book.Add(Version("", kMar)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(PriceBookTest, FindModelLooksInTheVersionInForce) {
  PriceVersion v1 = Version("v1", kJan);
  v1.models["old-model"].name = "old-model";
  PriceVersion v2 = Version("v2", kFeb);
  v2.models["new-model"].name = "new-model";
  PriceBook book;
  ASSERT_TRUE(book.Add(std::move(v1)).ok());
  ASSERT_TRUE(book.Add(std::move(v2)).ok());

  PriceBook::ModelMatch match = book.FindModel("", "old-model", kFeb - absl::Seconds(1));
  ASSERT_NE(match.price, nullptr);
  EXPECT_EQ(match.version->id, "v1");
  match = book.FindModel("", "old-model", kFeb);
  EXPECT_EQ(match.version->id, "v2");
  EXPECT_EQ(match.price, nullptr);
  match = book.FindModel("", "new-model", kJan - absl::Seconds(1));
  EXPECT_EQ(match.version, nullptr);
  EXPECT_EQ(match.price, nullptr);
}

TEST(PriceVersionTest, FindsModelByExactThenProviderThenStrippedPrefix) {
  PriceVersion v = Version("v", kJan);
  v.models["gpt-4o"].name = "gpt-4o";
  v.models["azure/gpt-4o"].name = "azure/gpt-4o";

  EXPECT_EQ(v.FindModel("", "gpt-4o")->name, "gpt-4o");
  EXPECT_EQ(v.FindModel("openai", "gpt-4o")->name, "gpt-4o");
  // A provider-specific entry beats the generic one.
  EXPECT_EQ(v.FindModel("azure", "gpt-4o")->name, "azure/gpt-4o");
  EXPECT_EQ(v.FindModel("", "openai/gpt-4o")->name, "gpt-4o");
  EXPECT_EQ(v.FindModel("", "openrouter/openai/gpt-4o")->name, "gpt-4o");
  EXPECT_EQ(v.FindModel("", "azure/gpt-4o")->name, "azure/gpt-4o");
  EXPECT_EQ(v.FindModel("", "GPT-4o"), nullptr);  // case-sensitive
  EXPECT_EQ(v.FindModel("", "gpt-4o-unknown"), nullptr);
  EXPECT_EQ(v.FindModel("openai", ""), nullptr);
}

}  // namespace
}  // namespace stepledger::domain::pricing
