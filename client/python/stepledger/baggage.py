"""Carries a run across services in W3C baggage (https://www.w3.org/TR/baggage/).

The calling agent injects its run and current step into the outgoing HTTP headers; the tool
service extracts them, so the steps it records join the same run as children of the step that
called it:

    headers = baggage.inject({})                     # in the agent, inside a step
    requests.post(url, headers=headers, ...)

    with baggage.extract(request.headers) as run:    # in the tool service
        with step("lookup", kind="tool_call", recorder=rec): ...

Members are named `stepledger.<tag>`; members of other vendors in the same header are kept.
Values are percent-encoded as the spec requires.
"""
from urllib.parse import quote, unquote

from .run_context import ENVIRONMENTS, WORKLOAD_CLASSES, RunContext, current_run, current_step

PREFIX = "stepledger."
HEADER = "baggage"
# The spec's limits a receiver must accept at least; we never write more.
_MAX_MEMBERS = 64
_MAX_BYTES = 8192

_NAMES = {number: name for name, number in WORKLOAD_CLASSES.items()}
_ENV_NAMES = {number: name for name, number in ENVIRONMENTS.items()}


def _members(value):
    """Parses a baggage header value into [(key, value-with-properties)] as written."""
    out = []
    for member in value.split(","):
        member = member.strip()
        if not member or "=" not in member:
            continue
        key, rest = member.split("=", 1)
        out.append((key.strip(), rest.strip()))
    return out


def _header(headers):
    """The baggage header from a dict-like object, matched case-insensitively; "" if none."""
    values = []
    for key in headers.keys():
        if key.lower() == HEADER:
            value = headers[key]
            values.extend(value if isinstance(value, (list, tuple)) else [value])
    return ",".join(v for v in values if v)


def inject(headers=None, run=None, parent_step=None):
    """Adds the run (default: the current one) and the step to continue from (default: the
    current step) to `headers["baggage"]`, keeping other vendors' members. Returns headers
    (a new dict when None is given). Without a run, headers are returned unchanged."""
    headers = {} if headers is None else headers
    run = run or current_run()
    if run is None:
        return headers
    step = parent_step or current_step()
    ours = {
        "run_id": run.run_id,
        "feature": run.feature,
        "team": run.team,
        "tenant": run.tenant,
        "workload_class": _NAMES.get(run.workload_class, ""),
        "environment": _ENV_NAMES.get(run.environment, ""),
        "parent_step_id": step.step_id if step is not None else run.parent_step_id,
    }
    existing = _header(headers)
    for key in [k for k in headers.keys() if k.lower() == HEADER]:
        del headers[key]
    kept = [f"{k}={v}" for k, v in _members(existing) if not k.startswith(PREFIX)]
    added = [f"{PREFIX}{k}={quote(v, safe='')}" for k, v in ours.items() if v]
    members = added + kept
    # Our members first; drop trailing foreign ones rather than exceed the spec's limits.
    while members and (len(members) > _MAX_MEMBERS or len(",".join(members)) > _MAX_BYTES):
        members.pop()
    headers[HEADER] = ",".join(members)
    return headers


def extract(headers):
    """A RunContext continuing the run named in `headers`' baggage, or None when the header
    carries no stepledger.run_id. Its parent_step_id is the caller's step."""
    values = {}
    for key, value in _members(_header(headers)):
        if key.startswith(PREFIX):
            # Properties (";k=v") after the value are metadata, not part of it.
            values[key[len(PREFIX):]] = unquote(value.split(";", 1)[0].strip())
    if not values.get("run_id"):
        return None
    return RunContext(run_id=values["run_id"], feature=values.get("feature", ""),
                      team=values.get("team", ""), tenant=values.get("tenant", ""),
                      workload_class=values.get("workload_class", ""),
                      environment=values.get("environment", ""),
                      parent_step_id=values.get("parent_step_id", ""))
