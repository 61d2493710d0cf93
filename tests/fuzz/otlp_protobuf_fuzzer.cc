// OTLP/HTTP with Content-Type application/x-protobuf (the bytes OTLP/gRPC carries too):
// ExportTraceServiceRequest -> spans -> steps.
#include "tests/fuzz/otlp_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stepledger::fuzz::FuzzOtlpBody(stepledger::transport::OtlpEncoding::kProtobuf, data, size);
  return 0;
}
