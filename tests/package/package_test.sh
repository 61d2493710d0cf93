#!/usr/bin/env bash
# The Debian package (issue 21 item 4), built by CPack from a build directory, unpacked into a
# scratch root with dpkg -x / dpkg -e (nothing is installed on this machine) and checked:
#   - the files, their modes and owners, the conffile and the maintainer scripts;
#   - both packaged binaries print the package version and a git revision with --version;
#   - the systemd unit passes `systemd-analyze verify` in offline mode against the scratch root
#     (its directives parse, ExecStart/ExecReload exist and are executable there, the units it
#     names resolve), and `systemd-analyze security` rates its hardening at exposure <= 2.0.
#     systemd is not PID 1 here, so the unit is not started under systemd;
#   - the packaged collector, started with the packaged env file (database URL and ports
#     replaced for the test), logs "collector ready", reloads on SIGHUP and exits 0 on SIGTERM.
#   tests/package/package_test.sh BUILD_DIR   (run by ctest; needs STEPLEDGER_TEST_DATABASE_URL)
set -euo pipefail
BUILD_DIR=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"
: "${STEPLEDGER_TEST_DATABASE_URL:?run through deploy/local/test.sh (make test)}"

WORK=$(mktemp -d /tmp/stepledger-package-test.XXXXXX)
CPID=
cleanup() {
  if [[ -n $CPID ]]; then
    kill "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...: one assertion
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $name" >&2
    failed=$((failed + 1))
  fi
}
mode_is() {  # mode_is OCTAL PATH
  [[ $(stat -c %a "$2") == "$1" ]] || {
    echo "$2: mode $(stat -c %a "$2"), expected $1" >&2
    return 1
  }
}
same_files() {  # same_files SRC_DIR DEST_DIR GLOB: DEST holds exactly SRC's GLOB files, equal
  local src=$1 dest=$2 glob=$3 f
  diff <(cd "$src" && compgen -G "$glob" | sort) <(cd "$dest" && compgen -G "$glob" | sort) ||
    return 1
  for f in "$src"/$glob; do cmp -s "$f" "$dest/${f##*/}" || { echo "$f differs" >&2; return 1; }; done
}

# --- Build the package into the scratch directory (the build directory's own .deb is left
# alone). CPack runs the install rules of deploy/package/CMakeLists.txt.
if ! cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$WORK/out" >"$WORK/cpack.log" 2>&1; then
  cat "$WORK/cpack.log" >&2
  echo "FAIL: cpack" >&2
  exit 1
fi
debs=("$WORK"/out/*.deb)
check "cpack made exactly one .deb (${debs[*]##*/})" test "${#debs[@]}" -eq 1 -a -f "${debs[0]}"
DEB=${debs[0]}
PKGROOT=$WORK/root
CONTROL=$WORK/control
dpkg -x "$DEB" "$PKGROOT"
dpkg -e "$DEB" "$CONTROL"

# --- Control data and version.
field() { dpkg-deb -f "$DEB" "$1"; }
VERSION=$(field Version)
check "package name stepledger" test "$(field Package)" = stepledger
check "file name stepledger_${VERSION}_$(field Architecture).deb" \
  test "${DEB##*/}" = "stepledger_${VERSION}_$(field Architecture).deb"
# "NAME VERSION (git REV)": REV is the short revision when built from a git checkout, else
# "unknown" (not compared with HEAD: a commit may land between the build and this test).
check "the collector's --version is the package version ($VERSION) and a revision" \
  grep -Eqx "stepledger-collector $VERSION \(git ([0-9a-f]{7,}|unknown)\)" \
  <<<"$("$PKGROOT/usr/bin/stepledger-collector" --version)"
check "the CLI's --version is the package version ($VERSION) and a revision" \
  grep -Eqx "stepledger $VERSION \(git ([0-9a-f]{7,}|unknown)\)" \
  <<<"$("$PKGROOT/usr/bin/stepledger" --version)"
depends=$(field Depends)
check "Depends has adduser and the shared libraries (dpkg-shlibdeps): $depends" \
  grep -q "adduser" <<<"$depends"
check "Depends names libpqxx and gRPC" grep -q "libpqxx.*libgrpc++\|libgrpc++.*libpqxx" \
  <<<"${depends//,/ }"
check "every file in the package is owned by root" \
  test -z "$(dpkg-deb -c "$DEB" | awk '$2 != "root/root"')"

# --- Files and modes.
for bin in stepledger-collector stepledger; do
  check "/usr/bin/$bin 755" mode_is 755 "$PKGROOT/usr/bin/$bin"
  check "/usr/bin/$bin is stripped" bash -c "! readelf -S '$PKGROOT/usr/bin/$bin' | grep -q debug_info"
done
UNIT=$PKGROOT/lib/systemd/system/stepledger-collector.service
ENVFILE=$PKGROOT/etc/stepledger/collector.env
SHARE=$PKGROOT/usr/share/stepledger
check "unit file 644" mode_is 644 "$UNIT"
check "env file 640 (it may hold a password)" mode_is 640 "$ENVFILE"
check "the migrations shipped are the source's" same_files "$ROOT/migrations" "$SHARE/migrations" '*.sql'
check "the catalogs shipped are the source's" same_files "$ROOT/catalog" "$SHARE/catalog" '*'
check "the Prometheus files shipped are the source's" \
  same_files "$ROOT/deploy/prometheus" "$SHARE/prometheus" '*.yml'
check "the Grafana dashboard shipped" cmp -s "$ROOT/deploy/grafana/stepledger.json" \
  "$SHARE/grafana/stepledger.json"
check "docs under /usr/share/doc/stepledger" test -f "$PKGROOT/usr/share/doc/stepledger/OPERATING.md"
check "shared files are 644" test -z "$(find "$SHARE" -type f ! -perm 644)"
check "no file outside /usr, /etc and /lib/systemd" \
  test -z "$(cd "$PKGROOT" && find . -type f | grep -v '^\./usr/\|^\./etc/stepledger/\|^\./lib/systemd/system/')"

# --- Maintainer scripts and conffiles.
check "conffiles is exactly the env file" test "$(cat "$CONTROL/conffiles")" = /etc/stepledger/collector.env
for script in postinst prerm postrm; do
  check "$script 755" mode_is 755 "$CONTROL/$script"
  check "$script parses (sh -n)" sh -n "$CONTROL/$script"
done
# The scripts run with stand-ins for the commands that change the system (getent, adduser,
# chown, chmod, dpkg-statoverride, systemctl, rm), which only record their arguments: what a
# fresh install, an upgrade and an admin's statoverride make postinst do, what purge removes.
# /run/systemd/system is absent here, so the systemctl calls are not exercised.
STUBS=$WORK/stubs
mkdir -p "$STUBS"
# shellcheck disable=SC2016  # expanded when the stub runs
printf '%s\n' '#!/bin/sh' 'name=${0##*/}' 'echo "$name $*" >>"$CALLS"' \
  'case $name in getent) [ -n "$USER_EXISTS" ] ;; dpkg-statoverride) [ -n "$OVERRIDE" ] ;; esac' \
  >"$STUBS/stub"
chmod 755 "$STUBS/stub"
for cmd in getent adduser chown chmod dpkg-statoverride systemctl rm; do
  ln -s stub "$STUBS/$cmd"
done
lacks() { ! grep -q "$1" <<<"$2"; }
run_script() {  # run_script SCRIPT ARGS...: prints the recorded calls
  local calls=$WORK/calls
  : >"$calls"
  CALLS=$calls PATH="$STUBS:/usr/bin:/bin" sh "$CONTROL/$1" "${@:2}" >/dev/null
  cat "$calls"
}
fresh=$(USER_EXISTS='' OVERRIDE='' run_script postinst configure '')
check "postinst, fresh install: creates the system user stepledger" grep -qx \
  'adduser --system --group --home /var/lib/stepledger --no-create-home --gecos stepledger collector stepledger' \
  <<<"$fresh"
check "postinst, fresh install: env file root:stepledger 0640" \
  grep -qx 'chown root:stepledger /etc/stepledger/collector.env' <<<"$fresh"
check "postinst, fresh install: env file 0640" \
  grep -qx 'chmod 0640 /etc/stepledger/collector.env' <<<"$fresh"
upgrade=$(USER_EXISTS=1 OVERRIDE='' run_script postinst configure 0.0.9)
check "postinst, upgrade: the existing user is kept" lacks adduser "$upgrade"
override=$(USER_EXISTS=1 OVERRIDE=1 run_script postinst configure 0.0.9)
check "postinst: an admin's statoverride wins" lacks 'chown\|chmod' "$override"
check "postrm purge removes /var/lib/stepledger" \
  grep -qx 'rm -rf /var/lib/stepledger' <<<"$(run_script postrm purge)"
check "postrm remove deletes nothing" test -z "$(run_script postrm remove)"

# --- The unit: the settings the issue asks for, then systemd's own checks.
# shellcheck disable=SC2016  # $MAINPID is systemd's, written literally in the unit
for directive in User=stepledger EnvironmentFile=/etc/stepledger/collector.env \
  ExecStart=/usr/bin/stepledger-collector 'ExecReload=/bin/kill -HUP $MAINPID' \
  Restart=on-failure ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'CapabilityBoundingSet='; do
  check "unit has $directive" grep -qxF "$directive" "$UNIT"
done
# Offline verification needs the units and commands the unit names inside the root it checks:
# the host's targets and kill(1), beside the package's files.
VROOT=$WORK/verify-root
cp -a "$PKGROOT" "$VROOT"
cp -a /lib/systemd/system/*.target "$VROOT/lib/systemd/system/"
mkdir -p "$VROOT/bin" && cp /bin/kill "$VROOT/bin/kill"
verify_out=$(systemd-analyze verify --root="$VROOT" stepledger-collector.service 2>&1) &&
  verify_rc=0 || verify_rc=$?
check "systemd-analyze verify passes silently (rc $verify_rc): $verify_out" \
  test "$verify_rc" = 0 -a -z "$verify_out"
security_out=$(systemd-analyze security --offline=true --root="$VROOT" --threshold=20 \
  stepledger-collector.service 2>&1) && security_rc=0 || security_rc=$?
check "systemd-analyze security: $(grep 'Overall exposure' <<<"$security_out"), at most 2.0" \
  test "$security_rc" = 0

# --- The env file: one plain KEY=value per line, so systemd and this test read it alike; every
# variable it names (set or commented out) is a flag of the packaged collector.
COLLECTOR=$PKGROOT/usr/bin/stepledger-collector
help=$("$COLLECTOR" --help)
bad_lines=$(grep -v '^#\|^$' "$ENVFILE" | grep -v '^STEPLEDGER_[A-Z_]*=[^"'"'"' \\]*$' || true)
check "env file lines are plain KEY=value: ${bad_lines:-ok}" test -z "$bad_lines"
for name in $(grep -o '^#\?STEPLEDGER_[A-Z_]*=' "$ENVFILE" | tr -d '#='); do
  check "$name in the env file is a flag of the collector" grep -q "($name)" <<<"$help"
done
check "the env file sets the database URL" grep -q '^STEPLEDGER_DATABASE_URL=.' "$ENVFILE"

# --- Start the packaged collector as the unit would: the packaged env file's settings, with
# the database URL and ports replaced (and plaintext allowed where the collector asks for it).
GRPC=$(free_port)
METRICS=$(free_port)
OTLP=$(free_port)
{
  grep -v '^STEPLEDGER_DATABASE_URL=' "$ENVFILE"
  echo "STEPLEDGER_DATABASE_URL=$STEPLEDGER_TEST_DATABASE_URL"
  echo "STEPLEDGER_GRPC_LISTEN=127.0.0.1:$GRPC"
  echo "STEPLEDGER_METRICS_LISTEN=127.0.0.1:$METRICS"
  echo "STEPLEDGER_OTLP_HTTP_LISTEN=127.0.0.1:$OTLP"
  echo "STEPLEDGER_ROLLUP_SCHEDULE=false"
  echo "STEPLEDGER_PRICE_CATALOG=$SHARE/catalog/model_prices_and_context_window.json"
  echo "STEPLEDGER_TOOL_PRICES=$SHARE/catalog/tool_prices.txt"
  if grep -q '(STEPLEDGER_INSECURE)' <<<"$help"; then echo "STEPLEDGER_INSECURE=true"; fi
} >"$WORK/collector.env"
env_args=()
while IFS= read -r line; do
  [[ $line =~ ^STEPLEDGER_[A-Z_]*= ]] && env_args+=("$line")
done <"$WORK/collector.env"
(cd "$WORK" && exec env -i PATH=/usr/bin:/bin "${env_args[@]}" "$COLLECTOR") \
  >"$WORK/collector.log" 2>&1 &
CPID=$!
ready=false
for _ in $(seq 1 600); do
  if grep -q '"collector ready"\|collector ready' "$WORK/collector.log"; then ready=true; break; fi
  kill -0 "$CPID" 2>/dev/null || break
  sleep 0.1
done
check "the packaged collector with the packaged env file logs \"collector ready\"" $ready
if $ready; then
  check "it serves /metrics on the port from the env file" \
    bash -c "curl -sf http://127.0.0.1:$METRICS/metrics | grep -q '^stepledger_build_info'"
  kill -HUP "$CPID"
  for _ in $(seq 1 100); do
    grep -q "SIGHUP: reloading the price catalog" "$WORK/collector.log" && break
    sleep 0.1
  done
  check "SIGHUP (the unit's ExecReload) reloads the price catalog" \
    grep -q "SIGHUP: reloading the price catalog" "$WORK/collector.log"
  check "and the collector is still running after it" kill -0 "$CPID"
fi
kill -TERM "$CPID" 2>/dev/null || true
rc=0
wait "$CPID" || rc=$?
CPID=
check "SIGTERM: the collector exits 0 (exit $rc)" test "$rc" = 0
check "SIGTERM: it logs its shutdown" grep -q "shutting down" "$WORK/collector.log"
if ((failed > 0)); then
  echo "--- collector log" >&2
  tail -20 "$WORK/collector.log" >&2
fi

echo "package_test: ${DEB##*/}: $passed checks passed, $failed failed"
((failed == 0))
