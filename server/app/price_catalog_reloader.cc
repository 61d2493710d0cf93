#include "server/app/price_catalog_reloader.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/catalog/catalog_files.h"
#include "server/common/log.h"

namespace stepledger::app {

using ReloadResult = metrics::PricingMetrics::ReloadResult;

PriceCatalogReloader::PriceCatalogReloader(Options options, storage::PgPriceStore& store,
                                           CatalogPricer& pricer, metrics::PricingMetrics* metrics)
    : options_(std::move(options)), store_(store), pricer_(pricer), metrics_(metrics) {}

absl::Status PriceCatalogReloader::Load(absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::optional<ReloadResult> result;
  if (!options_.model_prices_path.empty()) {
    storage::CatalogTexts texts;
    texts.model_source = options_.model_prices_path;
    texts.tool_source = options_.tool_prices_path;
    absl::StatusOr<std::string> models = catalog::ReadTextFile(options_.model_prices_path);
    absl::StatusOr<std::string> tools = options_.tool_prices_path.empty()
                                            ? absl::StatusOr<std::string>("")
                                            : catalog::ReadTextFile(options_.tool_prices_path);
    absl::StatusOr<storage::PriceVersionInfo> saved =
        absl::FailedPreconditionError("catalog files not read");
    if (!models.ok()) {
      saved = models.status();
    } else if (!tools.ok()) {
      saved = tools.status();
    } else {
      texts.model_text = std::move(*models);
      texts.tool_text = std::move(*tools);
      // No credential: the collector itself stores the files it was started with.
      saved = store_.SaveVersion(texts, now, now,
                                 domain::auth::AuditActor::Collector("--price-catalog"));
    }
    if (!saved.ok()) {
      if (metrics_ != nullptr) metrics_->OnCatalogReload(ReloadResult::kError);
      log::Error("price catalog not loaded; the current prices stay in force",
                 {{"error", std::string(saved.status().message())}});
      return saved.status();
    }
    result = saved->created ? ReloadResult::kCreated : ReloadResult::kUnchanged;
    log::Info(saved->created ? "price catalog stored as a new version"
                             : "price catalog unchanged: newest stored version kept",
              {{"version", saved->id},
               {"effective_from", absl::FormatTime(saved->effective_from)},
               {"models", absl::StrCat(saved->model_count)},
               {"tools", absl::StrCat(saved->tool_count)},
               {"model_prices", saved->model_source},
               {"tool_prices", saved->tool_source.empty() ? "(none)" : saved->tool_source}});
  }
  absl::Status rebuilt = RebuildBook();
  if (metrics_ != nullptr) {
    metrics_->OnCatalogReload(!rebuilt.ok() ? ReloadResult::kError
                                            : result.value_or(ReloadResult::kRefreshed));
  }
  if (rebuilt.ok() && options_.model_prices_path.empty() && pricer_.book()->versions().empty()) {
    log::Warn(
        "no price catalog (--price-catalog / STEPLEDGER_PRICE_CATALOG) and no stored "
        "price version: steps without a reported cost are stored unpriced");
  }
  return rebuilt;
}

absl::Status PriceCatalogReloader::RefreshIfChanged() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::string> stamp = store_.VersionsStamp();
  if (!stamp.ok()) return stamp.status();
  if (*stamp == stamp_) return absl::OkStatus();
  absl::Status rebuilt = RebuildBook();
  if (metrics_ != nullptr) {
    metrics_->OnCatalogReload(rebuilt.ok() ? ReloadResult::kRefreshed : ReloadResult::kError);
  }
  if (rebuilt.ok()) log::Info("price book refreshed from stored versions", {{"stamp", stamp_}});
  return rebuilt;
}

absl::Status PriceCatalogReloader::RebuildBook() {
  // The stamp is read before the book: a version stored in between makes the next refresh
  // rebuild again, never miss it.
  absl::StatusOr<std::string> stamp = store_.VersionsStamp();
  if (!stamp.ok()) return stamp.status();
  absl::StatusOr<domain::pricing::PriceBook> book = store_.LoadBook();
  if (!book.ok()) {
    log::Error("cannot rebuild the price book; the current one stays",
               {{"error", std::string(book.status().message())}});
    return book.status();
  }
  const size_t versions = book->versions().size();
  const std::string newest = versions == 0 ? "" : book->versions().back().id;
  pricer_.Swap(std::make_shared<const domain::pricing::PriceBook>(std::move(*book)));
  stamp_ = *stamp;
  if (metrics_ != nullptr) metrics_->SetCatalogVersion(newest, versions);
  log::Info("price book in use",
            {{"versions", absl::StrCat(versions)}, {"newest", newest.empty() ? "(none)" : newest}});
  return absl::OkStatus();
}

}  // namespace stepledger::app
