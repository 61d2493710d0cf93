// The tool price file loader (server/catalog/tool_price_file.h). Property: every tool it
// accepts has non-negative prices, a unit name exactly when units are billed, and its own name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "server/catalog/tool_price_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<stepledger::catalog::ToolPriceMap> tools =
      stepledger::catalog::LoadToolPriceFile(text);
  if (!tools.ok()) return 0;
  for (const auto& [name, price] : *tools) {
    if (price.name != name || name.empty() || price.per_call < 0 || price.per_1k_units < 0) {
      std::fprintf(stderr, "tool price file accepted a bad tool: %s\n", name.c_str());
      std::abort();
    }
  }
  return 0;
}
