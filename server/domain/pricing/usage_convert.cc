#include "server/domain/pricing/usage_convert.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace stepledger::domain::pricing {
namespace {

absl::Status CheckNonNegative(absl::string_view field, std::optional<int64_t> value) {
  if (value && *value < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is negative: ", *value));
  }
  return absl::OkStatus();
}

// Splits a total that includes a detail count into (total - detail, detail).
absl::Status Split(absl::string_view total_field, std::optional<int64_t> total,
                   absl::string_view detail_field, std::optional<int64_t> detail,
                   std::optional<int64_t>* rest, std::optional<int64_t>* part) {
  if (absl::Status s = CheckNonNegative(total_field, total); !s.ok()) return s;
  if (absl::Status s = CheckNonNegative(detail_field, detail); !s.ok()) return s;
  if (!total) {
    *part = detail;  // The total is unknown, so the remainder is too.
    return absl::OkStatus();
  }
  int64_t detail_count = detail.value_or(0);
  if (detail_count > *total) {
    return absl::InvalidArgumentError(absl::StrCat(detail_field, " (", detail_count, ") exceeds ",
                                                   total_field, " (", *total,
                                                   ") that includes it"));
  }
  *rest = *total - detail_count;
  *part = detail_count;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Usage> FromOpenAiUsage(std::optional<int64_t> prompt_tokens,
                                      std::optional<int64_t> cached_tokens,
                                      std::optional<int64_t> completion_tokens,
                                      std::optional<int64_t> reasoning_tokens) {
  Usage usage;
  if (absl::Status s = Split("prompt_tokens", prompt_tokens, "cached_tokens", cached_tokens,
                             &usage.input_uncached_tokens, &usage.cache_read_tokens);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Split("completion_tokens", completion_tokens, "reasoning_tokens",
                             reasoning_tokens, &usage.output_tokens, &usage.reasoning_tokens);
      !s.ok()) {
    return s;
  }
  return usage;
}

absl::StatusOr<Usage> FromAnthropicUsage(std::optional<int64_t> input_tokens,
                                         std::optional<int64_t> cache_read_input_tokens,
                                         std::optional<int64_t> cache_creation_input_tokens,
                                         std::optional<int64_t> output_tokens) {
  for (auto [field, value] :
       {std::pair<absl::string_view, std::optional<int64_t>>{"input_tokens", input_tokens},
        {"cache_read_input_tokens", cache_read_input_tokens},
        {"cache_creation_input_tokens", cache_creation_input_tokens},
        {"output_tokens", output_tokens}}) {
    if (absl::Status s = CheckNonNegative(field, value); !s.ok()) return s;
  }
  Usage usage;
  usage.input_uncached_tokens = input_tokens;
  usage.cache_read_tokens = cache_read_input_tokens;
  usage.cache_write_tokens = cache_creation_input_tokens;
  usage.output_tokens = output_tokens;
  return usage;
}

}  // namespace stepledger::domain::pricing
