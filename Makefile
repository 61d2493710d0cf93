# stepledger. The two commands are `make run` and `make test` (DESIGN.md, "The two commands");
# the rest is for development. All of it works in a fresh Debian 12 clone, as root or a sudo user.

# Debian packages the build, the tests and `make run` need. `make deps` installs the missing
# ones. Add packages here (one list, so there is one place to look).
DEB_PACKAGES := \
	cmake ninja-build g++ pkg-config \
	libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
	libabsl-dev libpqxx-dev prometheus-cpp-dev nlohmann-json3-dev libssl-dev \
	libgtest-dev libgmock-dev libbenchmark-dev \
	postgresql-15 postgresql-client-15 \
	clang-format python3 curl libcli11-dev \
	clang libclang-rt-14-dev \
	python3-grpcio python3-protobuf python3-pytest \
	python3-venv python3-setuptools python3-wheel \
	prometheus prometheus-alertmanager chromium nodejs \
	pgbouncer gnuplot-nox libgoogle-perftools-dev

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
JOBS ?= 2
# Extra arguments for ctest in `make test` / `make asan`, e.g. CTEST_ARGS="-L unit".
CTEST_ARGS ?=
# Sources that format/format-check/tidy look at.
FORMAT_DIRS := server client tests bench

.PHONY: all deps build run test bench package format format-check tidy asan fuzz faults soak clean \
  distclean

all: build

deps:
	@bash deploy/local/deps.sh $(DEB_PACKAGES)
	@# The OpenTelemetry JS SDK for tests/e2e/otel, pinned by its package-lock.json, into build/.
	@bash tests/e2e/otel/install_js.sh build/otel-js

# Configure only once: later builds let CMake re-run itself when CMakeLists.txt files change.
build: deps
	@if [[ ! -f build/release/build.ninja ]]; then cmake --preset release; fi
	cmake --build --preset release -j $(JOBS)

run: build
	@bash deploy/local/run.sh

test: build
	@CTEST_ARGS="$(CTEST_ARGS)" bash deploy/local/test.sh build/release

bench: build
	@bash deploy/local/bench.sh build/release

# A Debian package of the release build (deploy/package/, docs/PACKAGE.md).
package: build
	@rm -rf build/release/package
	@cpack --config build/release/CPackConfig.cmake -G DEB -B build/release/package >/dev/null
	@echo "package: $$(ls build/release/package/*.deb)"

# ASan+UBSan debug build, tested against the same kind of throwaway PostgreSQL as `make test`.
asan: deps
	@if [[ ! -f build/asan/build.ninja ]]; then cmake --preset asan; fi
	cmake --build --preset asan -j $(JOBS)
	@CTEST_ARGS="$(CTEST_ARGS)" bash deploy/local/test.sh build/asan

# libFuzzer targets (tests/fuzz; docs/RELIABILITY.md, "Fuzzing") in a clang ASan+UBSan build of
# their own, each run for FUZZ_SECONDS; fails on any crash, leak, UB, hang or broken property.
# Longer on demand: `make fuzz FUZZ_SECONDS=600`; some only: FUZZ_TARGETS="jsonl budget_file".
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
fuzz: deps
	@if [[ ! -f build/fuzz/build.ninja ]]; then cmake --preset fuzz; fi
	cmake --build --preset fuzz -j $(JOBS) --target fuzzers
	@bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The fault suite's full tier (tests/faults; docs/RELIABILITY.md, "Fault suite"): collector
# kill -9, PostgreSQL crashes, killed backends, links cut at COMMIT, mutated retries, a full WAL
# disk (as root), each checked against the load's journal; then every fuzzer for 30 s. About
# 15 minutes. FAULTS_ARGS, e.g. "--only commit_cut --seed 7" to repeat one scenario.
FAULTS_ARGS ?=
faults: build
	/usr/bin/python3 tests/faults/run_faults.py --tier full \
	  --collector build/release/server/stepledger-collector $(FAULTS_ARGS)
	$(MAKE) fuzz FUZZ_SECONDS=30

# Ingest and budget checks for SOAK_MINUTES with a slow random walk of tenants; collector RSS,
# open files, PostgreSQL connections and table bloat sampled and judged flat after warm-up
# (tests/faults/soak.py; docs/RELIABILITY.md, "Soak").
SOAK_MINUTES ?= 30
soak: build
	/usr/bin/python3 tests/faults/soak.py --minutes $(SOAK_MINUTES) \
	  --collector build/release/server/stepledger-collector

# C++ sources under FORMAT_DIRS (generated code lives in build/, so it is never touched).
format_files = $(shell find $(FORMAT_DIRS) -type f \( -name '*.h' -o -name '*.cc' \) 2>/dev/null | sort)

format: deps
	@files="$(format_files)"; if [[ -n $$files ]]; then clang-format -i --style=file $$files; fi

format-check: deps
	@files="$(format_files)"; if [[ -n $$files ]]; then \
	  clang-format --dry-run --Werror --style=file $$files || \
	  { echo "format-check: run 'make format'" >&2; exit 1; }; fi

# Best effort: clang-tidy (not in DEB_PACKAGES: install it yourself) over the project's own
# translation units in compile_commands.json; needs a build for the generated proto headers.
tidy: build
	@command -v clang-tidy >/dev/null || { echo "tidy: install clang-tidy (apt-get install clang-tidy)" >&2; exit 1; }
	@sed -n 's/^ *"file": "\(.*\)",*$$/\1/p' build/release/compile_commands.json | \
	  grep -E "^$(CURDIR)/($(subst $() ,|,$(FORMAT_DIRS)))/" | sort -u | \
	  xargs -r -P $(JOBS) -n 4 clang-tidy -p build/release --quiet \
	    --extra-arg=-Wno-unknown-warning-option

clean:
	rm -rf build
	@echo "clean: removed build/; kept .var/ (the make run database): 'make distclean' removes it"

distclean: clean
	@bash deploy/local/pg.sh destroy .var/pg
	@bash deploy/local/pg.sh destroy /tmp/stepledger-$$(printf '%s' "$(CURDIR)" | sha256sum | cut -c1-12)
	rm -rf .var
