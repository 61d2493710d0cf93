"""BudgetGuard: ask stepledger before an expensive step (Budget.CheckBudget).

    guard = BudgetGuard()                          # STEPLEDGER_TARGET
    decision = guard.check(0.50)                   # tags from the current RunContext
    if not decision.allowed: ...                   # REQUIRE_ACK: stop or ask a human

    s = step("synthesis", kind="model_call", recorder=rec)    # made, not started yet
    with guard.reserve(0.50, s), s:                # raises BudgetRequiresAck: s never runs
        ...
        s.cost_usd = actual                        # the step's event settles the reservation

Decisions: ALLOW and ALERT go ahead (ALERT: the cap's owner is told); REQUIRE_ACK stops.
`require()` and `reserve()` raise BudgetRequiresAck for it, carrying the caps to acknowledge.

Unreachable service (UNAVAILABLE, or no answer within the deadline): the per-call or default
`fail` policy decides, explicitly, as in the C++ client (client/lib/budget_client.h):
  fail="closed" (default): REQUIRE_ACK, checked=False; require()/reserve() raise
                           BudgetUnavailable (a BudgetRequiresAck with no caps).
  fail="open":             ALLOW, checked=False.
Both are counted in stats() and logged as warnings. Any other error (a malformed check is
INVALID_ARGUMENT naming the field) raises BudgetCheckError: a refused check is never an ALLOW.

Stale counters (the collector could not read its database for longer than its
--budget-stale-after): the answer is still an answer, checked=True, with stale=True,
counters_as_of and counters_age_s; each cap's stale policy has already shaped the decision
(a require_ack cap fails closed by default), so the guard treats it like any other.

Thread safety: a BudgetGuard may be shared by threads; check_async serves asyncio code.
"""
import asyncio
import collections
import contextlib
import dataclasses
import datetime
import logging
import threading

import grpc

from . import config
from .money import nano_to_usd, usd_to_nano
from .run_context import current_run, current_step
from .v1 import budget_pb2, budget_pb2_grpc

log = logging.getLogger("stepledger")

ALLOW = "ALLOW"
ALERT = "ALERT"
REQUIRE_ACK = "REQUIRE_ACK"
_DECISIONS = {budget_pb2.DECISION_ALLOW: ALLOW, budget_pb2.DECISION_ALERT: ALERT,
              budget_pb2.DECISION_REQUIRE_ACK: REQUIRE_ACK}
_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclasses.dataclass(frozen=True)
class BudgetDecision:
    decision: str                 # ALLOW, ALERT or REQUIRE_ACK
    checked: bool                 # False: unreachable, decision from the fail policy
    unchecked_reason: str         # why not checked ("UNAVAILABLE: ..."), "" when checked
    estimate_nano_usd: int
    caps: tuple = ()              # stepledger.v1.CapStatus, every matching cap
    deciding_cap_id: str = ""
    reservation_id: str = ""
    # How fresh the other replicas' spend behind the answer was: counters_as_of is a UTC
    # datetime (None: never read, or not checked), counters_age_s seconds by the collector's
    # clock; stale=True: past the collector's --budget-stale-after, and every cap's
    # stale_policy decided for it (CapStatus.stale_policy_applied says which ones changed).
    counters_as_of: object = None
    counters_age_s: float = 0.0
    stale: bool = False

    @property
    def allowed(self):
        return self.decision in (ALLOW, ALERT)

    def caps_to_acknowledge(self):
        """The enforced caps that said REQUIRE_ACK: what a human must acknowledge."""
        return [c for c in self.caps
                if c.decision == budget_pb2.DECISION_REQUIRE_ACK and not c.shadow]


def _as_of(unix_millis):
    if unix_millis <= 0:
        return None
    return datetime.datetime.fromtimestamp(unix_millis / 1000, tz=datetime.timezone.utc)


class BudgetRequiresAck(Exception):
    """The check said REQUIRE_ACK. `decision.caps_to_acknowledge()` lists each cap's id,
    owner, limit, spent and remaining; `Budget.Acknowledge` (or `stepledger budget ack`)
    with the cap id and extra headroom lets the step go ahead."""

    def __init__(self, decision):
        self.decision = decision
        caps = decision.caps_to_acknowledge()
        parts = [f"cap {c.cap_id} (owner {c.owner}): spent ${nano_to_usd(c.spent_nano_usd)} "
                 f"of ${nano_to_usd(c.limit_nano_usd)}, remaining "
                 f"${nano_to_usd(c.remaining_nano_usd)}" for c in caps]
        super().__init__(
            f"budget requires acknowledgement for an estimate of "
            f"${nano_to_usd(decision.estimate_nano_usd)}: " + ("; ".join(parts) or
                                                               decision.unchecked_reason))


class BudgetUnavailable(BudgetRequiresAck):
    """The budget service could not be asked and the policy is fail-closed."""


class BudgetCheckError(Exception):
    """The service refused the check (e.g. INVALID_ARGUMENT naming the field)."""

    def __init__(self, code, details):
        self.code = code
        self.details = details
        super().__init__(f"CheckBudget failed: {code.name}: {details}")


class BudgetGuard:
    def __init__(self, target=None, *, channel=None, credentials=None, api_key=None,
                 fail=None, timeout=None):
        self._fail = self._policy(fail or config.env_choice("STEPLEDGER_BUDGET_FAIL", "closed",
                                                            ("closed", "open")))
        self._timeout = timeout if timeout is not None else config.env_int(
            "STEPLEDGER_BUDGET_TIMEOUT_MS", 2000, 1, 600_000) / 1000
        self._owns_channel = channel is None
        self._channel = channel or config.make_channel(target, credentials)
        self._stub = budget_pb2_grpc.BudgetStub(self._channel)
        self._metadata = config.call_metadata(api_key)
        self._lock = threading.Lock()
        self._counts = collections.Counter()

    @staticmethod
    def _policy(fail):
        if fail not in ("closed", "open"):
            raise ValueError(f"fail: {fail!r} is not 'closed' or 'open'")
        return fail

    def check(self, estimate_usd=None, *, estimate_nano_usd=None, run=None, tags=None,
              reserve=False, step_id="", fail=None, timeout=None):
        """Asks CheckBudget for an estimate (dollars, or nano-USD). Tags: `tags` (a Tags
        message), else `run`'s, else the current RunContext's. Returns a BudgetDecision."""
        if (estimate_usd is None) == (estimate_nano_usd is None):
            raise ValueError("check: give exactly one of estimate_usd and estimate_nano_usd")
        estimate = (usd_to_nano(estimate_usd, "estimate_usd") if estimate_usd is not None
                    else int(estimate_nano_usd))
        if tags is None:
            run = run or current_run()
            if run is None:
                raise ValueError("check: no tags: pass tags= or run=, or enter a RunContext")
            tags = run.tags()
        policy = self._policy(fail) if fail is not None else self._fail
        request = budget_pb2.CheckBudgetRequest(tags=tags, estimated_cost_nano_usd=estimate,
                                                reserve=reserve, step_id=step_id)
        try:
            response = self._stub.CheckBudget(
                request, timeout=timeout if timeout is not None else self._timeout,
                metadata=self._metadata)
        except grpc.RpcError as e:
            if e.code() not in _UNREACHABLE:
                self._count("errors")
                raise BudgetCheckError(e.code(), e.details()) from None
            reason = f"{e.code().name}: {e.details()}"
            decision = ALLOW if policy == "open" else REQUIRE_ACK
            self._count(f"unchecked_fail_{policy}")
            log.warning("stepledger: budget not checked (%s); failing %s: %s", reason, policy,
                        decision)
            return BudgetDecision(decision=decision, checked=False, unchecked_reason=reason,
                                  estimate_nano_usd=estimate)
        decision = _DECISIONS.get(response.decision)
        if decision is None:
            # An answer without a decision is a broken service, never an ALLOW.
            self._count("errors")
            raise BudgetCheckError(grpc.StatusCode.INTERNAL,
                                   f"response without a decision ({response.decision})")
        self._count(decision.lower())
        return BudgetDecision(decision=decision, checked=True, unchecked_reason="",
                              estimate_nano_usd=estimate, caps=tuple(response.caps),
                              deciding_cap_id=response.deciding_cap_id,
                              reservation_id=response.reservation_id,
                              counters_as_of=_as_of(response.counters_as_of_unix_millis),
                              counters_age_s=response.counters_age_millis / 1000,
                              stale=response.stale)

    def require(self, estimate_usd=None, **kwargs):
        """check(), raising BudgetRequiresAck (BudgetUnavailable when not checked) unless the
        decision lets the step go ahead."""
        decision = self.check(estimate_usd, **kwargs)
        if not decision.allowed:
            raise (BudgetRequiresAck if decision.checked else BudgetUnavailable)(decision)
        return decision

    @contextlib.contextmanager
    def reserve(self, estimate_usd=None, step=None, **kwargs):
        """Reserves the estimate for `step` (default: the current step) before the block runs.
        The step's StepEvent, recorded when the step ends, settles the reservation at its
        actual cost on the collector (by step_id); an unsettled one expires after its TTL.
        Raises BudgetRequiresAck (or BudgetUnavailable) instead of running the block."""
        step = step or current_step()
        if step is None:
            raise ValueError("reserve: no step: pass the Step whose event will settle it")
        kwargs.setdefault("run", step.run)
        yield self.require(estimate_usd, reserve=True, step_id=step.step_id, **kwargs)

    async def check_async(self, estimate_usd=None, **kwargs):
        """check() on a worker thread, so an event loop is not blocked for the deadline. Tags
        default to the caller's RunContext (read here, before leaving the task)."""
        if kwargs.get("tags") is None and kwargs.get("run") is None:
            kwargs["run"] = current_run()
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.check(estimate_usd, **kwargs))

    def stats(self):
        """Counts: allow, alert, require_ack, unchecked_fail_open, unchecked_fail_closed,
        errors."""
        with self._lock:
            return dict(self._counts)

    def _count(self, key):
        with self._lock:
            self._counts[key] += 1

    def close(self):
        if self._owns_channel:
            self._channel.close()
