#include "server/domain/ingest/ingest_service.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/domain/ingest/text.h"

namespace stepledger::domain::ingest {

std::string RejectionCode(std::string_view reason) {
  size_t end = 0;
  while (end < reason.size() && (absl::ascii_islower(static_cast<unsigned char>(reason[end])) ||
                                 reason[end] == ' ' || reason[end] == '-' || reason[end] == '_')) {
    ++end;
  }
  while (end > 0 && reason[end - 1] == ' ') --end;
  std::string code(reason.substr(0, end));
  for (char& c : code) {
    if (c == ' ' || c == '-') c = '_';
  }
  return code.empty() ? "invalid" : code;
}

std::string_view RejectionFieldLabel(std::string_view field) {
  if (field.rfind("attributes", 0) == 0) return "attributes";
  return field;
}

IngestService::IngestService(GroupCommitter& committer, const Clock& clock, ValidationLimits limits,
                             IngestObserver* observer, const StepPricer* pricer)
    : committer_(committer), clock_(clock), limits_(limits), observer_(observer), pricer_(pricer) {}

absl::Status IngestService::SubmitBatch(std::vector<ReceivedEvent> events, Done done) {
  if (events.size() > limits_.max_events_per_batch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events: batch has ", events.size(), " events, at most ", limits_.max_events_per_batch));
  }
  if (observer_ != nullptr) observer_->OnEventsReceived(events.size());
  const absl::Time now = clock_.Now();
  std::vector<IngestItem> items;
  items.reserve(events.size());
  for (ReceivedEvent& event : events) {
    IngestItem& item = items.emplace_back();  // built in place: an item is over 1 KB
    item.received_at = now;
    item.digest = std::move(event.digest);
    Verdict verdict;
    if (event.conversion_error.has_value()) {
      verdict.error = std::move(event.conversion_error);
      verdict.status = AttributionStatus::kQuarantined;
    } else {
      verdict = ValidateStep(event.step, now, limits_);
    }
    item.status = verdict.status;
    if (verdict.error.has_value()) {
      item.raw_json = event.as_json();
      // A rejected time must not place the quarantine row (it may be years away): the row is
      // placed at the receive time and the value as sent stays in raw_json.
      if (verdict.error->field == "started_at" || verdict.error->field == "ended_at") {
        event.step.started_at.reset();
        event.step.ended_at.reset();
      }
      item.rejection = std::move(verdict.error);
    }
    item.step = std::move(event.step);
    item.charged = item.step.tags;
    if (item.status == AttributionStatus::kPending) {
      // Charged to its run's root once the root is known (in this group, in the ledger, or
      // later); until then the charged columns say so plainly.
      for (std::string* tag : {&item.charged.feature, &item.charged.team, &item.charged.tenant}) {
        if (tag->empty()) *tag = "(pending)";
      }
    }
    if (item.step.cost_nano_usd.has_value()) {
      item.cost_nano_usd = item.step.cost_nano_usd;  // reported cost always wins
      item.cost_source = CostSource::kReported;
    } else if (pricer_ != nullptr && !item.rejection.has_value()) {
      PricedCost priced = pricer_->Price(item.step, item.occurred_at());
      item.cost_nano_usd = priced.cost_nano_usd;
      item.cost_source = priced.source;
      item.price_version = std::move(priced.price_version);
      item.unpriced_reason = std::move(priced.unpriced_reason);
    }
  }

  // The completion needs each event's id and rejection; keep just those, not the items. The
  // ids go back to back into one string (one allocation per batch, not one per event): only
  // the ids of rejected events are ever read again.
  struct Summary {
    size_t id_end = 0;  // the id is ids[previous id_end, id_end)
    std::optional<FieldError> rejection;
    std::optional<NanoUsd> reported_cost;
  };
  std::string ids;
  size_t ids_size = 0;
  for (const IngestItem& item : items) ids_size += item.step.event_id.size();
  ids.reserve(ids_size);
  std::vector<Summary> summaries;
  summaries.reserve(items.size());
  for (const IngestItem& item : items) {
    ids += item.step.event_id;
    summaries.push_back({ids.size(), item.rejection, item.step.cost_nano_usd});
  }

  return committer_.Submit(
      std::move(items),
      [this, ids = std::move(ids), summaries = std::move(summaries),
       done = std::move(done)](absl::StatusOr<std::vector<Outcome>> outcomes) mutable {
        if (!outcomes.ok()) {
          std::move(done)(outcomes.status());
          return;
        }
        BatchResult result;
        for (size_t i = 0; i < summaries.size(); ++i) {
          const Summary& s = summaries[i];
          // The ack is a protobuf string: an id that is not storable text is echoed escaped.
          const auto event_id = [&] {
            const size_t begin = i == 0 ? 0 : summaries[i - 1].id_end;
            return EscapeUnstorable(std::string_view(ids).substr(begin, s.id_end - begin));
          };
          switch ((*outcomes)[i]) {
            case Outcome::kAccepted:
              ++result.accepted;
              break;
            case Outcome::kDuplicate:
              ++result.duplicates;
              break;
            case Outcome::kConflict:
              result.rejected.push_back(
                  {event_id(), "event_id",
                   "conflict: event_id already stored with different content; the stored "
                   "event is kept and this one is quarantined"});
              if (observer_ != nullptr) {
                // The stored event is charged; the conflicting copy is not spend.
                observer_->OnEventRejected("event_id", "conflict", std::nullopt);
              }
              break;
            case Outcome::kQuarantined:
            case Outcome::kQuarantinedAgain:
              result.rejected.push_back({event_id(), s.rejection->field, s.rejection->reason});
              if (observer_ != nullptr) {
                // Unattributed spend counts a quarantined event once, however often re-sent.
                const bool first_time = (*outcomes)[i] == Outcome::kQuarantined;
                observer_->OnEventRejected(RejectionFieldLabel(s.rejection->field),
                                           RejectionCode(s.rejection->reason),
                                           first_time ? s.reported_cost : std::nullopt);
              }
              break;
          }
        }
        if (observer_ != nullptr) observer_->OnBatchResult(result);
        std::move(done)(std::move(result));
      });
}

}  // namespace stepledger::domain::ingest
