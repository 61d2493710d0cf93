// Converts provider-reported token usage into stepledger's disjoint buckets, so that every
// token is counted exactly once (see the Usage message in proto/stepledger/v1/steps.proto).
//
//  - OpenAI style: prompt_tokens INCLUDES prompt_tokens_details.cached_tokens, and
//    completion_tokens INCLUDES completion_tokens_details.reasoning_tokens. So
//      input_uncached = prompt - cached,   cache_read = cached,
//      output         = completion - reasoning,   reasoning = reasoning.
//    OpenAI reports no cache writes (they are billed as ordinary input), so cache_write stays
//    absent.
//  - Anthropic style: input_tokens EXCLUDES cache_read_input_tokens and
//    cache_creation_input_tokens, so the four counts map one to one. Anthropic bills thinking
//    inside output_tokens and does not report it apart, so reasoning stays absent.
//
// Absent stays absent (unknown, not zero), except that a details count (cached, reasoning)
// absent next to its known total is taken as 0: OpenAI omits the details object when there is
// nothing to detail, and the total then holds every token.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_USAGE_CONVERT_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_USAGE_CONVERT_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "server/domain/step.h"

namespace stepledger::domain::pricing {

// Fails with InvalidArgument naming the field when a count is negative or a detail count
// exceeds its total (cached > prompt, reasoning > completion).
absl::StatusOr<Usage> FromOpenAiUsage(std::optional<int64_t> prompt_tokens,
                                      std::optional<int64_t> cached_tokens,
                                      std::optional<int64_t> completion_tokens,
                                      std::optional<int64_t> reasoning_tokens);

// Fails with InvalidArgument naming the field when a count is negative.
absl::StatusOr<Usage> FromAnthropicUsage(std::optional<int64_t> input_tokens,
                                         std::optional<int64_t> cache_read_input_tokens,
                                         std::optional<int64_t> cache_creation_input_tokens,
                                         std::optional<int64_t> output_tokens);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_USAGE_CONVERT_H_
