"""stepledger: record AI-agent steps and check budgets from Python.

    from stepledger import Recorder, RunContext, step
    recorder = Recorder()                       # STEPLEDGER_TARGET, default 127.0.0.1:50051
    with RunContext(feature="inbox-triage", team="mail-ai", tenant="acme",
                    workload_class="interactive", environment="production"):
        with step("planner", kind="model_call", recorder=recorder) as s:
            s.model, s.cost_usd = "gpt-4o", 0.0042

See README.md for the Recorder's buffer policy and spool, BudgetGuard, and the LiteLLM callback.
"""
from . import baggage, usage
from .budget import (ALERT, ALLOW, REQUIRE_ACK, BudgetCheckError, BudgetDecision, BudgetGuard,
                     BudgetRequiresAck, BudgetUnavailable)
from .money import nano_to_usd, usd_to_nano
from .recorder import Recorder, RecorderStats
from .run_context import RunContext, Step, bind, current_run, current_step, new_id, step
from .spool import SpoolLockedError
from .v1.steps_pb2 import StepEvent, Tags, Usage

__all__ = [
    "ALERT", "ALLOW", "REQUIRE_ACK", "BudgetCheckError", "BudgetDecision", "BudgetGuard",
    "BudgetRequiresAck", "BudgetUnavailable", "Recorder", "RecorderStats", "RunContext", "Step",
    "SpoolLockedError", "StepEvent", "Tags", "Usage", "baggage", "bind", "current_run",
    "current_step", "nano_to_usd", "new_id", "step", "usage", "usd_to_nano",
]
