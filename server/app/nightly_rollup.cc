#include "server/app/nightly_rollup.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/log.h"
#include "server/domain/reports/showback.h"
#include "server/domain/reports/showback_loading.h"
#include "server/render/render.h"
#include "server/storage/rollup_store.h"
#include "server/storage/showback_source.h"

namespace stepledger::app {
namespace {

absl::Status WriteReports(const NightlyRollupOptions& options, absl::CivilDay last_day,
                          absl::Time now) {
  using render::ReportFormat;
  const absl::CivilMonth month(last_day);
  const domain::reports::ShowbackLoader load = [&options](absl::CivilDay from, absl::CivilDay to,
                                                          const std::string& environment) {
    return storage::LoadShowbackInputs(options.database_url, from, to, environment);
  };
  // The rollup just ran: no day of the month to date is left to roll up here.
  const absl::StatusOr<domain::reports::ShowbackReport> loaded =
      domain::reports::LoadShowbackReport(load, nullptr,
                                          {absl::CivilDay(month), last_day, "", false}, now);
  if (!loaded.ok()) return loaded.status();
  const domain::reports::ShowbackReport& report = *loaded;
  for (ReportFormat f : render::AllReportFormats()) {
    const std::string path =
        absl::StrFormat("%s/showback-%04d-%02d.%s", options.report_dir, month.year(), month.month(),
                        std::string(render::FileExtension(f)));
    // Write then rename, so a publisher never picks up half a file.
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << render::Render(report, f);
    out.close();
    if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunNightlyRollup(const NightlyRollupOptions& options,
                              const domain::reports::DayRange& days, absl::Time now) {
  absl::StatusOr<storage::RollupRunResult> run =
      storage::RollupJob({.database_url = options.database_url}).Run(days.from, days.to);
  if (!run.ok()) {
    log::Warn("nightly rollup failed", {{"error", std::string(run.status().message())}});
    return run.status();
  }
  if (!run->ran) {
    log::Info("nightly rollup: another replica holds the lock", {});
    return absl::OkStatus();
  }
  int64_t steps = 0;
  for (const auto& d : run->days) steps += d.source_rows;
  log::Info("nightly rollup done",
            {{"days", absl::StrCat(run->days.size())}, {"steps", absl::StrCat(steps)}});
  if (options.report_dir.empty()) return absl::OkStatus();
  absl::Status s = WriteReports(options, days.to, now);
  if (!s.ok()) log::Warn("writing reports failed", {{"error", std::string(s.message())}});
  return s;
}

NightlyRollup::NightlyRollup(const domain::Clock& clock, NightlyRollupOptions options)
    : clock_(clock), options_(std::move(options)) {}

NightlyRollup::~NightlyRollup() { Stop(); }

void NightlyRollup::Start() {
  thread_ = std::thread([this] {
    domain::reports::RollupScheduler scheduler(
        clock_, options_.schedule, [this](const domain::reports::DayRange& days) {
          return RunNightlyRollup(options_, days, clock_.Now());
        });
    log::Info("nightly rollup scheduled",
              {{"next_run",
                absl::FormatTime(absl::RFC3339_sec, scheduler.next_run(), absl::UTCTimeZone())}});
    while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(30))) scheduler.Tick();
  });
}

void NightlyRollup::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

}  // namespace stepledger::app
