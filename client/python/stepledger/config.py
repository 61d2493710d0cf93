"""Settings from the environment, and the gRPC channel to the collector.

Explicit constructor arguments win; otherwise these variables apply (the names follow the
STEPLEDGER_TARGET the CLI already reads, and OpenTelemetry's OTEL_BSP_* batching knobs):

| variable                         | default           | what                                   |
|----------------------------------|-------------------|----------------------------------------|
| STEPLEDGER_TARGET                | 127.0.0.1:50051   | the collector's gRPC address           |
| STEPLEDGER_SPOOL_DIR             | (none: no spool)  | on-disk spool directory for Recorder   |
| STEPLEDGER_MAX_BUFFER            | 10000             | events held in memory, not yet acked   |
| STEPLEDGER_BATCH_SIZE            | 500               | events per StepBatch (1..1000)         |
| STEPLEDGER_FLUSH_INTERVAL_MS     | 1000              | longest wait before a partial batch    |
| STEPLEDGER_ON_FULL               | drop              | buffer-full policy: drop or block      |
| STEPLEDGER_BUDGET_FAIL           | closed            | BudgetGuard when unreachable: closed/open |
| STEPLEDGER_BUDGET_TIMEOUT_MS     | 2000              | deadline of one CheckBudget            |
| STEPLEDGER_API_KEY               | (none)            | sent as `authorization: Bearer <key>`  |
| STEPLEDGER_API_KEY_FILE          | (none)            | a file holding the key (if no key set) |
| STEPLEDGER_CA_CERT               | (none: plaintext) | PEM CA of the collector's TLS certificate |

A malformed value raises ValueError naming the variable.
"""
import os

import grpc

DEFAULT_TARGET = "127.0.0.1:50051"


def env_str(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_int(name, default, low, high):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ValueError(f"{name}: expected an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is outside {low}..{high}")
    return value


def env_choice(name, default, choices):
    value = env_str(name, default).lower()
    if value not in choices:
        raise ValueError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def target(explicit=None):
    return explicit or env_str("STEPLEDGER_TARGET", DEFAULT_TARGET)


def call_metadata(api_key=None):
    """The per-call gRPC metadata carrying the API key (argument, else STEPLEDGER_API_KEY),
    or None without one. The key is never logged."""
    key = api_key or env_str("STEPLEDGER_API_KEY")
    key_file = env_str("STEPLEDGER_API_KEY_FILE")
    if not key and key_file:
        with open(key_file, encoding="ascii") as f:
            key = f.read().strip()
    return (("authorization", f"Bearer {key}"),) if key else None


def make_channel(target_address=None, credentials=None, reconnect_max_s=2.0):
    """A channel to the collector: TLS when `credentials` (grpc.ssl_channel_credentials(...))
    are given or STEPLEDGER_CA_CERT names the CA file, plaintext otherwise. Reconnect backoff
    is capped at `reconnect_max_s`, so a restarted collector is found again within seconds
    (gRPC's own default grows to 120 s)."""
    # Not grpc.min_reconnect_backoff_ms: gRPC uses it as the time one connection attempt (TCP
    # and the TLS handshake) may take, and a short one makes every TLS handshake on a loaded
    # machine time out, so the channel never connects; its default (20 s) stays.
    options = [
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", int(reconnect_max_s * 1000)),
        # The collector accepts messages up to 64 MiB; a full batch stays far below that.
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ]
    address = target(target_address)
    ca_file = env_str("STEPLEDGER_CA_CERT")
    if credentials is None and ca_file:
        with open(ca_file, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    if credentials is not None:
        return grpc.secure_channel(address, credentials, options=options)
    return grpc.insecure_channel(address, options=options)
