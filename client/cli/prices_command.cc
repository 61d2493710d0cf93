#include "client/cli/prices_command.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/catalog/catalog_files.h"
#include "server/catalog/litellm_price_map.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/pricing/price_step.h"
#include "server/storage/pg_price_store.h"

namespace stepledger::client {
namespace {

namespace pricing = domain::pricing;

constexpr int kExitNotFound = 4;
constexpr int kExitUnavailable = 69;  // sysexits EX_UNAVAILABLE
constexpr char kDefaultCatalog[] = "./catalog/model_prices_and_context_window.json";
constexpr size_t kCorrectionsListed = 50;

constexpr char kUsage[] =
    "usage: stepledger prices show MODEL [--provider P] [--catalog FILE]\n"
    "       stepledger prices quote MODEL --input N --output N [--cache-read N]\n"
    "                 [--cache-write N] [--reasoning N] [--tier T] [--provider P]\n"
    "                 [--catalog FILE]\n"
    "       stepledger prices unpriced [--since T] [--until T] [--database-url URL]\n"
    "       stepledger prices reprice --since T [--until T] [--dry-run] [--database-url URL]\n"
    "       stepledger prices load --catalog FILE [--tool-prices FILE] [--database-url URL]\n"
    "\n"
    "show     the rates a model has in a LiteLLM JSON catalog (per token and per 1M tokens)\n"
    "quote    the cost of one call: the rates used and the cost in dollars and nano-USD.\n"
    "         Token counts are disjoint buckets: --input is UNCACHED input tokens\n"
    "         (docs/PRICING.md); --tier is standard, batch, priority or flex\n"
    "unpriced stored steps without a cost and not corrected since, by model and reason\n"
    "reprice  re-prices stored steps that occurred in [--since, --until) with the stored price\n"
    "         versions and records the differences as correction entries (stored costs are\n"
    "         never edited); running it again adds nothing. --dry-run only prints them\n"
    "load     stores the catalog files as a new price version taking effect now (unless they\n"
    "         equal the newest version); every collector prices with it within its\n"
    "         --upkeep-interval, without a restart or SIGHUP\n"
    "\n"
    "show and quote compute locally from --catalog, else $STEPLEDGER_PRICE_CATALOG, else\n"
    "./catalog/model_prices_and_context_window.json. unpriced, reprice and load are admin commands\n"
    "that connect to PostgreSQL directly (the collector is not involved): --database-url,\n"
    "else $STEPLEDGER_DATABASE_URL.\n"
    "\n"
    "Times T: 2026-05-01, 2026-05-01T12:00:00Z (RFC 3339), or an age such as 24h, 30m, 7d.\n"
    "\n"
    "Exit status: 0 done, 4 model not in the catalog, 64 usage error, 65 catalog malformed,\n"
    "66 catalog not readable, 69 database unavailable or failed.\n";

struct Flags {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  bool dry_run = false;
  bool help = false;
};

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  static const char* const kValued[] = {"--catalog", "--provider", "--input", "--output",
                                        "--cache-read", "--cache-write", "--reasoning",
                                        "--tier", "--since", "--until", "--database-url",
                                        "--tool-prices"};
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
      continue;
    }
    if (arg == "--dry-run") {
      flags.dry_run = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      flags.positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    bool known = false;
    for (const char* k : kValued) known = known || name == k;
    if (!known) return absl::InvalidArgumentError("unknown flag " + name);
    if (!value.has_value()) {
      if (i + 1 == args.size()) return absl::InvalidArgumentError(name + " needs a value");
      value = args[++i];
    }
    flags.values[name] = *value;
  }
  return flags;
}

std::optional<std::string> Get(const Flags& flags, const std::string& name) {
  auto it = flags.values.find(name);
  if (it == flags.values.end()) return std::nullopt;
  return it->second;
}

// "2026-05-01", RFC 3339, or an age ("24h", "7d") before `now`.
absl::StatusOr<absl::Time> ParseTimeArg(const std::string& flag, const std::string& text,
                                        absl::Time now) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) return t;
  int64_t days = 0;
  if (absl::EndsWith(text, "d") && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) &&
      days >= 0) {
    return now - absl::Hours(24 * days);
  }
  absl::Duration age;
  if (absl::ParseDuration(text, &age) && age >= absl::ZeroDuration()) return now - age;
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": expected a date, an RFC 3339 time or an age like 24h or 7d, got \"",
                   text, "\""));
}

// An amount in units of 1e-9 USD as decimal dollars. A FemtoUsd-per-token rate is the same
// number as nano-USD per million tokens, so this also prints rates per 1M tokens.
std::string FormatNano(int64_t nano) {
  const bool negative = nano < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(nano) : static_cast<uint64_t>(nano);
  std::string frac = absl::StrFormat("%09d", magnitude % 1'000'000'000);
  frac.erase(frac.find_last_not_of('0') + 1);
  if (frac.size() < 2) frac.resize(2, '0');
  return absl::StrCat(negative ? "-" : "", "$", magnitude / 1'000'000'000, ".", frac);
}

std::string Rate(std::optional<pricing::FemtoUsd> rate) {
  if (!rate.has_value()) return "-";
  return absl::StrCat(FormatNano(*rate), "/1M (", pricing::FormatFemtoUsd(*rate), "/token)");
}

void PrintRates(std::ostream& out, const std::string& indent, const pricing::TokenRates& r) {
  out << indent << "input         " << Rate(r.input) << "\n"
      << indent << "output        " << Rate(r.output) << "\n";
  if (r.cache_read) out << indent << "cache read    " << Rate(r.cache_read) << "\n";
  if (r.cache_write) out << indent << "cache write   " << Rate(r.cache_write) << "\n";
  if (r.cache_write_1h) out << indent << "cache write 1h " << Rate(r.cache_write_1h) << "\n";
  if (r.reasoning) out << indent << "reasoning     " << Rate(r.reasoning) << "\n";
}

// Loads the catalog and finds MODEL with the lookup rule of docs/PRICING.md.
struct Found {
  pricing::PriceVersion version;
  const pricing::ModelPrice* price = nullptr;
  std::string path;
};

int LoadModel(const CliContext& ctx, const Flags& flags, const PricesEnvironment& env,
              Found& found) {
  found.path = Get(flags, "--catalog")
                   .value_or(env.price_catalog.empty() ? kDefaultCatalog : env.price_catalog);
  absl::StatusOr<std::string> text = catalog::ReadTextFile(found.path);
  if (!text.ok()) {
    ctx.err << "stepledger prices: " << text.status().message() << "\n";
    return kExitNoInput;
  }
  absl::StatusOr<catalog::LiteLlmPriceMap> map = catalog::LoadLiteLlmPriceMap(*text);
  if (!map.ok()) {
    ctx.err << "stepledger prices: " << found.path << ": " << map.status().message() << "\n";
    return kExitDataError;
  }
  found.version.id = found.path;
  found.version.models = std::move(map->models);
  found.price = found.version.FindModel(Get(flags, "--provider").value_or(""),
                                        flags.positional[1]);
  if (found.price == nullptr) {
    ctx.err << "stepledger prices: model \"" << flags.positional[1] << "\" is not in "
            << found.path << " (a step with it is stored unpriced: unknown_model)\n";
    return kExitNotFound;
  }
  return kExitOk;
}

int Show(const CliContext& ctx, const Flags& flags, const PricesEnvironment& env) {
  Found found;
  if (int rc = LoadModel(ctx, flags, env, found); rc != kExitOk) return rc;
  const pricing::ModelPrice& p = *found.price;
  ctx.out << p.name << "  (provider " << (p.provider.empty() ? "-" : p.provider) << ", mode "
          << (p.mode.empty() ? "-" : p.mode) << ", catalog " << found.path << ")\n";
  for (const auto& [tier, prices] : p.tiers) {
    ctx.out << "tier " << pricing::ToString(tier) << "\n";
    PrintRates(ctx.out, "  ", prices.base);
    for (const auto& [threshold, rates] : prices.above_threshold) {
      ctx.out << "  above " << threshold << " input tokens:\n";
      PrintRates(ctx.out, "    ", rates);
    }
  }
  return kExitOk;
}

absl::StatusOr<std::optional<int64_t>> Count(const Flags& flags, const std::string& name) {
  std::optional<std::string> v = Get(flags, name);
  if (!v.has_value()) return std::optional<int64_t>();
  int64_t n = 0;
  if (!absl::SimpleAtoi(*v, &n) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": expected a token count >= 0, got \"", *v, "\""));
  }
  return std::optional<int64_t>(n);
}

int Quote(const CliContext& ctx, const Flags& flags, const PricesEnvironment& env) {
  domain::Usage usage;
  const std::pair<const char*, std::optional<int64_t>*> buckets[] = {
      {"--input", &usage.input_uncached_tokens}, {"--output", &usage.output_tokens},
      {"--cache-read", &usage.cache_read_tokens}, {"--cache-write", &usage.cache_write_tokens},
      {"--reasoning", &usage.reasoning_tokens}};
  for (const auto& [name, field] : buckets) {
    absl::StatusOr<std::optional<int64_t>> n = Count(flags, name);
    if (!n.ok()) {
      ctx.err << "stepledger prices quote: " << n.status().message() << "\n";
      return kExitUsage;
    }
    *field = *n;
  }
  const std::string tier_text = Get(flags, "--tier").value_or("standard");
  std::optional<pricing::ServiceTier> tier = pricing::ParseServiceTier(tier_text);
  if (!tier.has_value()) {
    ctx.err << "stepledger prices quote: --tier: expected standard, batch, priority or flex, "
               "got \""
            << tier_text << "\"\n";
    return kExitUsage;
  }
  Found found;
  if (int rc = LoadModel(ctx, flags, env, found); rc != kExitOk) return rc;
  const domain::StepKind kind = found.price->mode == "embedding" ? domain::StepKind::kEmbedding
                                                                 : domain::StepKind::kModelCall;
  pricing::ModelQuoteResult result = pricing::QuoteModel(*found.price, usage, *tier, kind);
  if (!result.quote.has_value()) {
    ctx.out << found.price->name << " (tier " << pricing::ToString(*tier)
            << "): unpriced: " << pricing::ToString(result.unpriced_reason) << "\n";
    if (result.unpriced_reason == pricing::UnpricedReason::kMissingUsage) {
      ctx.out << "  --input and --output (except for embeddings) are required: an unknown "
                 "count is never taken as 0\n";
    }
    return kExitOk;
  }
  const pricing::ModelQuote& q = *result.quote;
  ctx.out << found.price->name << " (tier " << pricing::ToString(*tier) << ", catalog "
          << found.path << ")\n";
  if (q.rates.above_threshold_tokens.has_value()) {
    ctx.out << "  long-context rates: total input above " << *q.rates.above_threshold_tokens
            << " tokens\n";
  }
  const struct {
    const char* name;
    int64_t tokens;
    pricing::FemtoUsd rate;
  } rows[] = {{"input", q.input_uncached_tokens, q.rates.input},
              {"cache read", q.cache_read_tokens, q.rates.cache_read},
              {"cache write", q.cache_write_tokens, q.rates.cache_write},
              {"output", q.output_tokens, q.rates.output},
              {"reasoning", q.reasoning_tokens, q.rates.reasoning}};
  ctx.out << absl::StrFormat("  %-12s %12s  %-18s %s\n", "bucket", "tokens", "rate per 1M",
                             "amount");
  for (const auto& r : rows) {
    const pricing::WideAmount femto = static_cast<pricing::WideAmount>(r.tokens) * r.rate;
    // Exact amount in femto-USD, shown in dollars (bucket amounts are not rounded on their own).
    std::string amount = femto > std::numeric_limits<int64_t>::max()
                             ? std::string("(too large)")
                             : pricing::FormatFemtoUsd(static_cast<int64_t>(femto));
    ctx.out << absl::StrFormat("  %-12s %12d  %-18s $%s\n", r.name, r.tokens, FormatNano(r.rate),
                               amount);
  }
  ctx.out << "  cost         " << FormatNano(q.cost_nano_usd) << "  (" << q.cost_nano_usd
          << " nano-USD, rounded once half-up)\n";
  return kExitOk;
}

std::string FormatTimeShort(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

int Unpriced(const CliContext& ctx, const Flags& flags, const PricesEnvironment& env,
             const std::string& url, absl::Time since, absl::Time until) {
  storage::PgPriceStore store(url);
  absl::StatusOr<std::vector<storage::UnpricedGroup>> groups = store.ListUnpriced(since, until);
  if (!groups.ok()) {
    ctx.err << "stepledger prices unpriced: " << groups.status().message() << "\n";
    return kExitUnavailable;
  }
  ctx.out << "unpriced steps from " << FormatTimeShort(since) << " to "
          << (until == absl::InfiniteFuture() ? "now" : FormatTimeShort(until)) << "\n";
  if (groups->empty()) {
    ctx.out << "  none\n";
    return kExitOk;
  }
  ctx.out << absl::StrFormat("  %8s  %-40s %-18s %-20s %s\n", "steps", "model / tool", "reason",
                             "first", "last");
  int64_t total = 0;
  for (const storage::UnpricedGroup& g : *groups) {
    std::string what = !g.model.empty() ? g.model
                       : !g.tool_name.empty() ? "tool:" + g.tool_name
                                              : "(none)";
    ctx.out << absl::StrFormat("  %8d  %-40s %-18s %-20s %s\n", g.steps, what,
                               g.reason.empty() ? "(unknown)" : g.reason,
                               FormatTimeShort(g.first_seen), FormatTimeShort(g.last_seen));
    total += g.steps;
  }
  ctx.out << "  " << total << " steps. After fixing the catalog (SIGHUP the collector), run: "
          << "stepledger prices reprice --since " << FormatTimeShort(since) << "\n";
  return kExitOk;
}

int Reprice(const CliContext& ctx, const Flags& flags, const std::string& url, absl::Time since,
            absl::Time until) {
  storage::PgPriceStore store(url);
  absl::StatusOr<storage::RepriceReport> report = store.Reprice(since, until, flags.dry_run);
  if (!report.ok()) {
    ctx.err << "stepledger prices reprice: " << report.status().message() << "\n";
    return kExitUnavailable;
  }
  ctx.out << (flags.dry_run ? "dry run: corrections that would be made\n" : "corrections made\n");
  size_t shown = 0;
  for (const storage::Correction& c : report->corrections) {
    if (shown++ == kCorrectionsListed) {
      ctx.out << "  ... and " << report->corrections.size() - kCorrectionsListed << " more\n";
      break;
    }
    ctx.out << "  " << FormatTimeShort(c.occurred_at) << "  " << c.event_id << "  " << c.model
            << "  " << (c.old_cost_nano_usd ? FormatNano(*c.old_cost_nano_usd) : "unpriced")
            << " -> " << FormatNano(c.new_cost_nano_usd) << "  delta "
            << FormatNano(c.delta_nano_usd) << "  version " << c.price_version << "  ("
            << c.reason << ")\n";
  }
  ctx.out << "steps examined " << report->examined << ", corrections "
          << report->corrections.size() << ", total delta "
          << FormatNano(report->total_delta_nano_usd) << " (" << report->total_delta_nano_usd
          << " nano-USD), still unpriced " << report->still_unpriced << "\n";
  return kExitOk;
}

int Load(const CliContext& ctx, const Flags& flags, const PricesEnvironment& env,
         const std::string& url) {
  std::optional<std::string> model_path = Get(flags, "--catalog");
  if (!model_path.has_value()) {
    ctx.err << "stepledger prices load: --catalog FILE is required\n";
    return kExitUsage;
  }
  storage::CatalogTexts texts;
  texts.model_source = *model_path;
  absl::StatusOr<std::string> models = catalog::ReadTextFile(*model_path);
  if (!models.ok()) {
    ctx.err << "stepledger prices load: " << models.status().message() << "\n";
    return 66;
  }
  texts.model_text = std::move(*models);
  if (std::optional<std::string> tools = Get(flags, "--tool-prices"); tools.has_value()) {
    absl::StatusOr<std::string> text = catalog::ReadTextFile(*tools);
    if (!text.ok()) {
      ctx.err << "stepledger prices load: " << text.status().message() << "\n";
      return 66;
    }
    texts.tool_source = *tools;
    texts.tool_text = std::move(*text);
  }
  storage::PgPriceStore store(url);
  absl::StatusOr<storage::PriceVersionInfo> info = store.SaveVersion(texts, env.now, env.now);
  if (!info.ok()) {
    ctx.err << "stepledger prices load: " << info.status().message() << "\n";
    return absl::IsInvalidArgument(info.status()) ? 65 : kExitUnavailable;
  }
  ctx.out << (info->created ? "stored price version " : "unchanged: newest price version ")
          << info->id << " (" << info->model_count << " models, " << info->tool_count
          << " tools), in force from " << FormatTimeShort(info->effective_from) << "\n";
  return kExitOk;
}

}  // namespace

int RunPrices(const CliContext& ctx, const std::vector<std::string>& args,
              const PricesEnvironment& env) {
  absl::StatusOr<Flags> flags = ParseFlags(args);
  if (!flags.ok()) {
    ctx.err << "stepledger prices: " << flags.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (flags->help) {
    ctx.out << kUsage;
    return kExitOk;
  }
  const std::string sub = flags->positional.empty() ? "" : flags->positional[0];
  if (sub == "show" || sub == "quote") {
    if (flags->positional.size() != 2) {
      ctx.err << "stepledger prices " << sub << ": expected one MODEL\n" << kUsage;
      return kExitUsage;
    }
    return sub == "show" ? Show(ctx, *flags, env) : Quote(ctx, *flags, env);
  }
  if (sub == "unpriced" || sub == "reprice" || sub == "load") {
    if (flags->positional.size() != 1) {
      ctx.err << "stepledger prices " << sub << ": unexpected argument\n" << kUsage;
      return kExitUsage;
    }
    const std::string url = Get(*flags, "--database-url").value_or(env.database_url);
    if (url.empty()) {
      ctx.err << "stepledger prices " << sub
              << ": --database-url (or STEPLEDGER_DATABASE_URL) is required\n";
      return kExitUsage;
    }
    if (sub == "load") return Load(ctx, *flags, env, url);
    std::optional<std::string> since_text = Get(*flags, "--since");
    if (sub == "reprice" && !since_text.has_value()) {
      ctx.err << "stepledger prices reprice: --since is required\n";
      return kExitUsage;
    }
    absl::StatusOr<absl::Time> since = ParseTimeArg("--since", since_text.value_or("24h"), env.now);
    absl::StatusOr<absl::Time> until = absl::InfiniteFuture();
    if (std::optional<std::string> u = Get(*flags, "--until"); u.has_value()) {
      until = ParseTimeArg("--until", *u, env.now);
    }
    for (const absl::Status& s : {since.status(), until.status()}) {
      if (!s.ok()) {
        ctx.err << "stepledger prices " << sub << ": " << s.message() << "\n";
        return kExitUsage;
      }
    }
    return sub == "unpriced" ? Unpriced(ctx, *flags, env, url, *since, *until)
                             : Reprice(ctx, *flags, url, *since, *until);
  }
  ctx.err << "stepledger prices: expected show, quote, unpriced, reprice or load\n" << kUsage;
  return kExitUsage;
}

int RunPricesCommand(const CliContext& context, const std::vector<std::string>& args) {
  PricesEnvironment env;
  if (const char* v = std::getenv("STEPLEDGER_PRICE_CATALOG"); v != nullptr) env.price_catalog = v;
  if (const char* v = std::getenv("STEPLEDGER_DATABASE_URL"); v != nullptr) env.database_url = v;
  env.now = absl::Now();
  return RunPrices(context, args, env);
}

}  // namespace stepledger::client
