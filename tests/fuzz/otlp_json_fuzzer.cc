// OTLP/HTTP with Content-Type application/json: OTLP/JSON (hex ids) -> spans -> steps.
#include "tests/fuzz/otlp_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stepledger::fuzz::FuzzOtlpBody(stepledger::transport::OtlpEncoding::kJson, data, size);
  return 0;
}
