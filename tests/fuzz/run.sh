#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target of a STEPLEDGER_FUZZ build for SECONDS, one after the
# other (the machine's cores are for the rest of the build and tests), and fails if any target
# found a crash, leak, undefined behaviour, timeout or broken property.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   (targets: step_batch jsonl ...; default all)
#
# Each target starts from its seed corpus (tests/fuzz/corpus/<target>, committed) plus what
# earlier runs found (BUILD_DIR/tests/fuzz/corpus/<target>, kept between runs so that longer
# runs build on shorter ones). A failing input is saved under BUILD_DIR/tests/fuzz/artifacts/
# and its report printed; reproduce it with `BUILD_DIR/tests/fuzz/fuzz_<target> <file>`.
set -euo pipefail

(($# >= 2)) || { echo "usage: run.sh BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; }
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(step_batch jsonl budget_file litellm_price_map tool_price_file otlp_json otlp_protobuf)
fi
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: SECONDS must be a positive integer" >&2; exit 2; }

# UB aborts (the build uses -fno-sanitize-recover); print where.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  seeds=$here/corpus/$t
  [[ -x $bin ]] || { echo "run.sh: $bin not built (cmake --build $build --target fuzzers)" >&2; exit 2; }
  [[ -d $seeds ]] || { echo "run.sh: no seed corpus $seeds" >&2; exit 2; }
  corpus=$build/tests/fuzz/corpus/$t
  artifacts=$build/tests/fuzz/artifacts/$t
  log=$build/tests/fuzz/$t.log
  mkdir -p "$corpus" "$artifacts"
  rc=0
  # -timeout: one input taking 25 s is a hang (generous: the machine may be loaded).
  "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  if ((rc == 0)); then
    echo "fuzz $t: ok, ${seconds}s, ${runs:-?} runs (${per_sec:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  else
    echo "fuzz $t: FAILED (exit $rc); report:" >&2
    grep -E -A40 '^==[0-9]+==|fuzz property broken|runtime error|Test unit written|deadly signal' \
      "$log" | head -80 >&2 || tail -40 "$log" >&2
    echo "fuzz $t: full log $log; input saved in $artifacts/" >&2
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} target(s) ran ${seconds}s each, nothing found"
