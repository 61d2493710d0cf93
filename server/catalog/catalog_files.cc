#include "server/catalog/catalog_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/catalog/litellm_price_map.h"
#include "server/catalog/tool_price_file.h"

namespace stepledger::catalog {
namespace {

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    std::string why = absl::StrCat(path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(why);
    if (error == EACCES) return absl::PermissionDeniedError(why);
    return absl::UnavailableError(why);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat(path, ": read failed"));
  return std::move(contents).str();
}

absl::StatusOr<domain::pricing::PriceVersion> LoadPriceVersionFromFiles(
    std::string id, absl::Time effective_from, const std::string& model_prices_path,
    const std::string& tool_prices_path) {
  domain::pricing::PriceVersion version;
  version.id = std::move(id);
  version.effective_from = effective_from;

  absl::StatusOr<std::string> json = ReadTextFile(model_prices_path);
  if (!json.ok()) return json.status();
  absl::StatusOr<LiteLlmPriceMap> models = LoadLiteLlmPriceMap(*json);
  if (!models.ok()) return WithPath(model_prices_path, models.status());
  version.models = std::move(models->models);

  if (!tool_prices_path.empty()) {
    absl::StatusOr<std::string> text = ReadTextFile(tool_prices_path);
    if (!text.ok()) return text.status();
    absl::StatusOr<ToolPriceMap> tools = LoadToolPriceFile(*text);
    if (!tools.ok()) return WithPath(tool_prices_path, tools.status());
    version.tools = std::move(*tools);
  }
  return version;
}

}  // namespace stepledger::catalog
