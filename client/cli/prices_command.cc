#include "client/cli/prices_command.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/flags.h"
#include "client/cli/money.h"
#include "client/cli/operation_progress.h"
#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {
namespace {

constexpr size_t kCorrectionsListed = 50;

constexpr char kDescription[] =
    "Prices, through the collector (Admin service):\n"
    "  show     a model's rates (per 1M tokens and per token) in the price version in force,\n"
    "           or in --catalog FILE (sent to the collector, which checks that it loads)\n"
    "  quote    the cost of one call: the rates used and the cost in dollars and nano-USD.\n"
    "           Token counts are disjoint buckets: --input is UNCACHED input tokens\n"
    "           (docs/PRICING.md); --tier is standard, batch, priority or flex\n"
    "  unpriced stored steps without a cost and not corrected since, by model and reason\n"
    "  reprice  re-prices stored steps that occurred in [--since, --until) with the stored\n"
    "           price versions and records the differences as correction entries (stored\n"
    "           costs are never edited); running it again adds nothing. --dry-run only prints\n"
    "  load     stores the catalog files as a new price version taking effect now (unless\n"
    "           they equal the newest version); every collector prices with it within its\n"
    "           --upkeep-interval, without a restart or SIGHUP\n"
    "  audit    who changed prices and invoices, newest first: every new price version,\n"
    "           reprice (not dry runs) and invoice import, with the credential that made it\n"
    "           and the --reason given (reprice, load and invoice import take --reason)\n"
    "Times T: 2026-05-01, 2026-05-01T12:00:00Z (RFC 3339), or an age such as 24h, 30m, 7d.\n"
    "Exit status: 0 done, 3 collector unreachable or failed, 4 model not in the catalog,\n"
    "64 usage error, 65 catalog malformed, 66 catalog not readable.";

// Reads a whole file; NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// A rate in femto-USD per token: "$2.50/1M ($0.0000025/token)".
std::string Rate(const v1::TokenRates& rates, bool has, int64_t rate) {
  if (!has) return "-";
  return absl::StrCat(Dollars(rate), "/1M ($", FormatFemtoUsd(rate), "/token)");
}

void PrintRates(std::ostream& out, const std::string& indent, const v1::TokenRates& r) {
  out << indent << "input         " << Rate(r, r.has_input(), r.input()) << "\n"
      << indent << "output        " << Rate(r, r.has_output(), r.output()) << "\n";
  if (r.has_cache_read())
    out << indent << "cache read    " << Rate(r, true, r.cache_read()) << "\n";
  if (r.has_cache_write()) {
    out << indent << "cache write   " << Rate(r, true, r.cache_write()) << "\n";
  }
  if (r.has_cache_write_1h()) {
    out << indent << "cache write 1h " << Rate(r, true, r.cache_write_1h()) << "\n";
  }
  if (r.has_reasoning()) out << indent << "reasoning     " << Rate(r, true, r.reasoning()) << "\n";
}

// Fills the catalog fields of a quote request from --catalog (or $STEPLEDGER_PRICE_CATALOG);
// nothing when neither is given: the collector's price version in force is used.
std::optional<int> AttachCatalog(const CliContext& ctx, const std::string& path,
                                 v1::QuotePriceRequest& request) {
  if (path.empty()) return std::nullopt;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    ctx.err << "stepledger prices: " << text.status().message() << "\n";
    return kExitNoInput;
  }
  request.set_catalog_text(*std::move(text));
  request.set_catalog_source(path);
  return std::nullopt;
}

int QuoteFailure(const CliContext& ctx, const absl::Status& status) {
  // A catalog the collector could not load is malformed input, not a usage error.
  if (absl::IsInvalidArgument(status) && status.message().rfind("catalog_text", 0) == 0) {
    ctx.err << "stepledger prices: " << status.message() << "\n";
    return kExitDataError;
  }
  return RpcFailure(ctx, "stepledger prices", status);
}

int Show(const CliContext& ctx, const AdminClient& client, const std::string& model,
         const std::string& provider, const std::string& catalog) {
  v1::QuotePriceRequest request;
  request.set_model(model);
  request.set_provider(provider);
  if (std::optional<int> exit = AttachCatalog(ctx, catalog, request)) return *exit;
  absl::StatusOr<v1::QuotePriceResponse> p = client.QuotePrice(request);
  if (!p.ok()) return QuoteFailure(ctx, p.status());
  ctx.out << p->model() << "  (provider " << (p->provider().empty() ? "-" : p->provider())
          << ", mode " << (p->mode().empty() ? "-" : p->mode()) << ", catalog " << p->catalog()
          << ")\n";
  for (const v1::TierRates& tier : p->tiers()) {
    ctx.out << "tier " << tier.tier() << "\n";
    PrintRates(ctx.out, "  ", tier.base());
    for (const v1::ThresholdRates& above : tier.above_threshold()) {
      ctx.out << "  above " << above.above_input_tokens() << " input tokens:\n";
      PrintRates(ctx.out, "    ", above.rates());
    }
  }
  return kExitOk;
}

struct QuoteFlags {
  std::optional<int64_t> input, output, cache_read, cache_write, reasoning;
  std::string tier = "standard";
};

int Quote(const CliContext& ctx, const AdminClient& client, const std::string& model,
          const std::string& provider, const std::string& catalog, const QuoteFlags& flags) {
  v1::QuotePriceRequest request;
  request.set_model(model);
  request.set_provider(provider);
  request.set_tier(flags.tier);
  v1::Usage* usage = request.mutable_usage();
  if (flags.input) usage->set_input_uncached_tokens(*flags.input);
  if (flags.output) usage->set_output_tokens(*flags.output);
  if (flags.cache_read) usage->set_cache_read_tokens(*flags.cache_read);
  if (flags.cache_write) usage->set_cache_write_tokens(*flags.cache_write);
  if (flags.reasoning) usage->set_reasoning_tokens(*flags.reasoning);
  if (std::optional<int> exit = AttachCatalog(ctx, catalog, request)) return *exit;
  absl::StatusOr<v1::QuotePriceResponse> q = client.QuotePrice(request);
  if (!q.ok()) return QuoteFailure(ctx, q.status());
  if (!q->quoted()) {
    ctx.out << q->model() << " (tier " << q->tier() << "): unpriced: " << q->unpriced_reason()
            << "\n";
    if (q->unpriced_reason() == "missing_usage") {
      ctx.out << "  --input and --output (except for embeddings) are required: an unknown "
                 "count is never taken as 0\n";
    }
    return kExitOk;
  }
  ctx.out << q->model() << " (tier " << q->tier() << ", catalog " << q->catalog() << ")\n";
  if (q->has_above_threshold_tokens()) {
    ctx.out << "  long-context rates: total input above " << q->above_threshold_tokens()
            << " tokens\n";
  }
  const v1::TokenRates& r = q->rates_used();
  const struct {
    const char* name;
    int64_t tokens;
    int64_t rate;
  } rows[] = {{"input", q->input_uncached_tokens(), r.input()},
              {"cache read", q->cache_read_tokens(), r.cache_read()},
              {"cache write", q->cache_write_tokens(), r.cache_write()},
              {"output", q->output_tokens(), r.output()},
              {"reasoning", q->reasoning_tokens(), r.reasoning()}};
  ctx.out << absl::StrFormat("  %-12s %12s  %-18s %s\n", "bucket", "tokens", "rate per 1M",
                             "amount");
  for (const auto& row : rows) {
    // Exact amount in femto-USD, shown in dollars (bucket amounts are not rounded on their own).
    const __int128 femto = static_cast<__int128>(row.tokens) * row.rate;
    const std::string amount = femto > INT64_MAX ? std::string("(too large)")
                                                 : FormatFemtoUsd(static_cast<int64_t>(femto));
    ctx.out << absl::StrFormat("  %-12s %12d  %-18s $%s\n", row.name, row.tokens, Dollars(row.rate),
                               amount);
  }
  ctx.out << "  cost         " << Dollars(q->cost_nano_usd()) << "  (" << q->cost_nano_usd()
          << " nano-USD, rounded once half-up)\n";
  return kExitOk;
}

int Unpriced(const CliContext& ctx, const AdminClient& client, absl::Time since,
             std::optional<absl::Time> until) {
  v1::ListUnpricedRequest request;
  request.mutable_since()->set_seconds(absl::ToUnixSeconds(since));
  if (until) request.mutable_until()->set_seconds(absl::ToUnixSeconds(*until));
  absl::StatusOr<v1::ListUnpricedResponse> response = client.ListUnpriced(request);
  if (!response.ok()) return RpcFailure(ctx, "stepledger prices unpriced", response.status());
  ctx.out << "unpriced steps from " << TimeText(since) << " to "
          << (until ? TimeText(*until) : "now") << "\n";
  if (response->groups().empty()) {
    ctx.out << "  none\n";
    return kExitOk;
  }
  ctx.out << absl::StrFormat("  %8s  %-40s %-18s %-20s %s\n", "steps", "model / tool", "reason",
                             "first", "last");
  int64_t total = 0;
  for (const v1::UnpricedGroup& g : response->groups()) {
    const std::string what = !g.model().empty()       ? g.model()
                             : !g.tool_name().empty() ? "tool:" + g.tool_name()
                                                      : "(none)";
    ctx.out << absl::StrFormat("  %8d  %-40s %-18s %-20s %s\n", g.steps(), what,
                               g.reason().empty() ? "(unknown)" : g.reason(),
                               TimeText(absl::FromUnixSeconds(g.first_seen().seconds())),
                               TimeText(absl::FromUnixSeconds(g.last_seen().seconds())));
    total += g.steps();
  }
  ctx.out << "  " << total << " steps. After fixing the catalog (stepledger prices load), run: "
          << "stepledger prices reprice --since " << TimeText(since) << "\n";
  return kExitOk;
}

int Reprice(const CliContext& ctx, const AdminClient& client, absl::Time since,
            std::optional<absl::Time> until, bool dry_run, const std::string& reason) {
  v1::RepriceRequest request;
  request.set_reason(reason);
  request.mutable_since()->set_seconds(absl::ToUnixSeconds(since));
  if (until) request.mutable_until()->set_seconds(absl::ToUnixSeconds(*until));
  request.set_dry_run(dry_run);
  absl::StatusOr<v1::Operation> done =
      WaitShowingProgress(ctx, client, "reprice", client.StartReprice(request));
  if (!done.ok()) return RpcFailure(ctx, "stepledger prices reprice", done.status());
  const v1::RepriceResponse* report = &done->reprice();
  ctx.out << (dry_run ? "dry run: corrections that would be made\n" : "corrections made\n");
  size_t shown = 0;
  for (const v1::PriceCorrection& c : report->corrections()) {
    if (shown++ == kCorrectionsListed) {
      ctx.out << "  ... and " << report->corrections_size() - kCorrectionsListed << " more\n";
      break;
    }
    ctx.out << "  " << TimeText(absl::FromUnixSeconds(c.occurred_at().seconds())) << "  "
            << c.event_id() << "  " << c.model() << "  "
            << (c.has_old_cost_nano_usd() ? Dollars(c.old_cost_nano_usd()) : "unpriced") << " -> "
            << Dollars(c.new_cost_nano_usd()) << "  delta " << Dollars(c.delta_nano_usd())
            << "  version " << c.price_version() << "  (" << c.reason() << ")\n";
  }
  ctx.out << "steps examined " << report->examined() << ", corrections "
          << report->corrections_size() << ", total delta "
          << Dollars(report->total_delta_nano_usd()) << " (" << report->total_delta_nano_usd()
          << " nano-USD), still unpriced " << report->still_unpriced() << "\n";
  return kExitOk;
}

int Load(const CliContext& ctx, const AdminClient& client, const std::string& catalog,
         const std::string& tool_prices, const std::string& reason) {
  v1::LoadPriceCatalogRequest request;
  request.set_reason(reason);
  absl::StatusOr<std::string> models = ReadFile(catalog);
  if (!models.ok()) {
    ctx.err << "stepledger prices load: " << models.status().message() << "\n";
    return kExitNoInput;
  }
  request.set_model_source(catalog);
  request.set_model_text(*std::move(models));
  if (!tool_prices.empty()) {
    absl::StatusOr<std::string> tools = ReadFile(tool_prices);
    if (!tools.ok()) {
      ctx.err << "stepledger prices load: " << tools.status().message() << "\n";
      return kExitNoInput;
    }
    request.set_tool_source(tool_prices);
    request.set_tool_text(*std::move(tools));
  }
  absl::StatusOr<v1::PriceVersionInfo> info = client.LoadPriceCatalog(request);
  if (!info.ok()) {
    if (absl::IsInvalidArgument(info.status())) {
      ctx.err << "stepledger prices load: " << info.status().message() << "\n";
      return kExitDataError;
    }
    return RpcFailure(ctx, "stepledger prices load", info.status());
  }
  ctx.out << (info->created() ? "stored price version " : "unchanged: newest price version ")
          << info->id() << " (" << info->model_count() << " models, " << info->tool_count()
          << " tools), in force from "
          << TimeText(absl::FromUnixSeconds(info->effective_from().seconds())) << "\n";
  return kExitOk;
}

int Audit(const CliContext& ctx, const AdminClient& client, int limit) {
  v1::ListAdminAuditRequest request;
  request.set_limit(limit);
  absl::StatusOr<v1::ListAdminAuditResponse> response = client.ListAdminAudit(request);
  if (!response.ok()) return RpcFailure(ctx, "stepledger prices audit", response.status());
  if (response->entries().empty()) ctx.out << "no price or invoice changes recorded\n";
  for (const v1::AdminAuditEntry& e : response->entries()) {
    ctx.out << TimeText(absl::FromUnixSeconds(e.changed_at().seconds())) << "  "
            << absl::StrFormat("%-18s", e.action()) << "  by " << e.actor()
            << (e.note().empty() ? "" : absl::StrCat(" (reason: ", e.note(), ")")) << "  "
            << e.detail_json() << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunPrices(const CliContext& ctx, const std::vector<std::string>& args,
              const PricesEnvironment& env) {
  CLI::App app(kDescription, "stepledger prices");
  app.require_subcommand(1);
  std::string model, provider, catalog = env.price_catalog, tool_prices, since_text, until_text;
  QuoteFlags quote;
  bool dry_run = false;
  std::string reason;
  int limit = 20;

  CLI::App* show = app.add_subcommand("show", "a model's rates");
  show->add_option("MODEL", model, "the model, as on the steps")->required();
  CLI::App* quote_cmd = app.add_subcommand("quote", "the cost of one call");
  quote_cmd->add_option("MODEL", model, "the model, as on the steps")->required();
  for (CLI::App* sub : {show, quote_cmd}) {
    sub->add_option("--provider", provider, "narrows the lookup (docs/PRICING.md)");
    sub->add_option("--catalog", catalog,
                    "a LiteLLM JSON catalog to use instead of the version in force "
                    "(default $STEPLEDGER_PRICE_CATALOG)");
  }
  quote_cmd->add_option("--input", quote.input, "uncached input tokens")
      ->check(CLI::NonNegativeNumber);
  quote_cmd->add_option("--output", quote.output, "output tokens")->check(CLI::NonNegativeNumber);
  quote_cmd->add_option("--cache-read", quote.cache_read, "cache read tokens")
      ->check(CLI::NonNegativeNumber);
  quote_cmd->add_option("--cache-write", quote.cache_write, "cache write tokens")
      ->check(CLI::NonNegativeNumber);
  quote_cmd->add_option("--reasoning", quote.reasoning, "reasoning tokens")
      ->check(CLI::NonNegativeNumber);
  quote_cmd->add_option("--tier", quote.tier, "standard (default), batch, priority or flex");
  CLI::App* unpriced = app.add_subcommand("unpriced", "stored steps without a cost");
  unpriced->add_option("--since", since_text, "from T (default 24h)");
  unpriced->add_option("--until", until_text, "until T (default: now)");
  CLI::App* reprice = app.add_subcommand("reprice", "re-price stored steps as corrections");
  reprice->add_option("--since", since_text, "from T")->required();
  reprice->add_option("--until", until_text, "until T (default: now)");
  reprice->add_flag("--dry-run", dry_run, "only print the corrections");
  CLI::App* load = app.add_subcommand("load", "store catalog files as a new price version");
  load->add_option("--catalog", catalog, "the LiteLLM JSON catalog")->required();
  load->add_option("--tool-prices", tool_prices, "the tool price file");
  for (CLI::App* sub : {reprice, load}) {
    sub->add_option("--reason", reason, "why, kept with the audit row (which names your key)");
  }
  CLI::App* audit = app.add_subcommand("audit", "who changed prices and invoices");
  audit->add_option("--limit", limit, "rows, newest first (1..1000, default 20)")
      ->check(CLI::Range(1, 1000));
  if (std::optional<int> exit = ParseFlags(app, args, ctx)) return *exit;

  const AdminClient client(MakeCollectorChannel(ctx.target));
  if (show->parsed()) return Show(ctx, client, model, provider, catalog);
  if (quote_cmd->parsed()) return Quote(ctx, client, model, provider, catalog, quote);
  if (load->parsed()) return Load(ctx, client, catalog, tool_prices, reason);
  if (audit->parsed()) return Audit(ctx, client, limit);
  absl::StatusOr<absl::Time> since =
      ParseTimeArg("--since", since_text.empty() ? "24h" : since_text, env.now);
  absl::StatusOr<std::optional<absl::Time>> until = std::optional<absl::Time>();
  if (!until_text.empty()) {
    absl::StatusOr<absl::Time> t = ParseTimeArg("--until", until_text, env.now);
    until = t.ok() ? absl::StatusOr<std::optional<absl::Time>>(*t)
                   : absl::StatusOr<std::optional<absl::Time>>(t.status());
  }
  for (const absl::Status& s : {since.status(), until.status()}) {
    if (!s.ok()) {
      ctx.err << "stepledger prices: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return unpriced->parsed() ? Unpriced(ctx, client, *since, *until)
                            : Reprice(ctx, client, *since, *until, dry_run, reason);
}

int RunPricesCommand(const CliContext& context, const std::vector<std::string>& args) {
  PricesEnvironment env;
  if (const char* v = std::getenv("STEPLEDGER_PRICE_CATALOG"); v != nullptr) env.price_catalog = v;
  env.now = absl::Now();
  return RunPrices(context, args, env);
}

}  // namespace stepledger::client
