// OpenTelemetry GenAI spans -> stepledger steps: the one home of the mapping that docs/OTLP.md
// documents as a table.
//
// A span's role is decided by `gen_ai.operation.name`:
// - leaf operations (chat, text_completion, generate_content, embeddings, retrieval,
//   execute_tool, any other named operation) become priced steps;
// - invoke_agent, create_agent, invoke_workflow are structure: tree nodes charged nothing, so
//   usage an in-process agent reports as the sum of its children is never counted twice. The
//   exception is a CLIENT invoke_agent (a remote agent, whose inner calls are not in this
//   trace): it is charged like a leaf;
// - a span with no operation name but a model or token usage is a model call; other gen_ai.*
//   spans are structure; spans without any gen_ai.* attribute are not stored.
// A stored span whose parent is a span that is not stored is attached to its nearest stored
// ancestor in the same request; when the chain ends in the request, it becomes a root.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_MAPPING_H_
#define STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_MAPPING_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/ingest/validation.h"
#include "server/domain/otlp/span.h"
#include "server/domain/step.h"

namespace stepledger::domain::otlp {

enum class SpanRole { kIgnored, kStructure, kStep };

// The role of `span` (see the file comment) and, for stored spans, the step kind.
SpanRole RoleOf(const Span& span);
StepKind KindOf(const Span& span);

// Disjoint usage buckets from the conventions' counts (which include cached tokens in input
// and reasoning tokens in output), accepting the older attribute names. An absent count stays
// absent. Where input is smaller than the cache counts (an instrumentation that passed on a
// provider's raw input, which excludes cache tokens), input is taken as already uncached; the
// same for output smaller than reasoning. On a malformed count (negative, not an integer),
// returns the attribute's name in `error`.
Usage UsageOf(const Attributes& span_attributes, std::optional<ingest::FieldError>* error);

// A decimal number of US dollars ("0.0123", "12", "1e-3") as nano-USD, exactly when it has at
// most nine decimals, otherwise rounded half away from zero to the nearest nano-USD.
// InvalidArgument when it is not a finite decimal or does not fit.
absl::StatusOr<NanoUsd> ParseUsd(absl::string_view decimal);

// One stored span: where it was in the request, the step, and the first field that could not
// be converted (the step is then quarantined with that reason).
struct MappedSpan {
  size_t resource_index = 0;
  size_t span_index = 0;
  Step step;
  std::optional<ingest::FieldError> conversion_error;
};

struct Mapping {
  std::vector<MappedSpan> steps;
  size_t ignored = 0;  // spans without gen_ai.* (not stored, not rejected)
};

// Maps every span of one export request.
Mapping MapSpans(const std::vector<ResourceSpans>& request);

}  // namespace stepledger::domain::otlp

#endif  // STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_MAPPING_H_
