# Sourced by run.sh: the TLS files and API keys of `make run` (docs/SECURITY.md), made once
# with openssl under .var/security (mode 700) and reused by later runs.
#
#   security_ca DIR NAME SUBJECT DAYS
#       makes a CA: DIR/NAME.pem and its key DIR/NAME.key.
#   security_leaf DIR NAME CA SUBJECT SAN DAYS
#       makes DIR/NAME.pem and DIR/NAME.key, a certificate for SUBJECT with subjectAltName SAN
#       (e.g. DNS:localhost,IP:127.0.0.1) signed by DIR/CA.pem. The e2e tests make their
#       certificates with these two as well (tests/fakes/collector_process.h,
#       tests/e2e/python/collector_harness.py, TlsE2eTest).
#   security_init DIR
#       makes DIR/ca.pem (a local CA, 10 years), DIR/server.pem and DIR/server.key (for
#       localhost, 127.0.0.1 and ::1, signed by that CA) and DIR/admin.key (the bootstrap admin
#       key: stored by the collector at its first start, when no key exists), unless they exist.
#   security_example_keys CLIENT TARGET DIR
#       once the collector answers, creates the example keys DIR/<role>.key (ingest, check,
#       report-read, budget-admin; scope "*") with `stepledger keys create`, unless they exist.
#       Needs STEPLEDGER_CA_CERT and STEPLEDGER_API_KEY_FILE (the admin key) in the environment.

security_ca() {
  local dir=$1 name=$2 subject=$3 days=$4
  openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "$subject" \
    -keyout "$dir/$name.key" -out "$dir/$name.pem" 2>/dev/null
}

security_leaf() {
  local dir=$1 name=$2 ca=$3 subject=$4 san=$5 days=$6
  printf 'subjectAltName=%s\n' "$san" >"$dir/$name.ext"
  openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" 2>/dev/null &&
    openssl x509 -req -days "$days" -in "$dir/$name.csr" -CA "$dir/$ca.pem" \
      -CAkey "$dir/$ca.key" -CAcreateserial -extfile "$dir/$name.ext" -out "$dir/$name.pem" \
      2>/dev/null
}

security_init() {
  local dir=$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ! -s $dir/ca.pem ]]; then
    security_ca "$dir" ca "/CN=stepledger local CA" 3650
    rm -f "$dir/server.pem"
  fi
  if [[ ! -s $dir/server.pem ]]; then
    security_leaf "$dir" server ca "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1" 825
  fi
  if [[ ! -s $dir/admin.key ]]; then
    (umask 077 && echo "slk_$(openssl rand -hex 8)_$(openssl rand -hex 32)" >"$dir/admin.key")
  fi
  chmod 600 "$dir"/*.key
}

security_example_keys() {
  local client=$1 target=$2 dir=$3 role
  for _ in $(seq 1 120); do
    "$client" --target="$target" keys list >/dev/null 2>&1 && break
    sleep 0.5
  done
  for role in ingest check report-read budget-admin; do
    [[ -s $dir/$role.key ]] && continue
    "$client" --target="$target" keys create --name "local-$role" --role "$role" --scope '*' \
      --note "make run example key" --token-file "$dir/$role.key" >/dev/null ||
      echo "run.sh: could not create the example $role key" >&2
  done
}
