#!/usr/bin/env python3
"""A simulated inbox-triage agent that records every step into stepledger.

No model is called: the "calls" below sleep briefly and report made-up usage, so the example
runs anywhere. What is real is everything stepledger sees: one run with a planner, three
parallel tool calls (one times out and is retried), a budget check with a reservation before
the expensive synthesis, and the synthesis itself.

    python3 -m venv --system-site-packages .venv && .venv/bin/pip install ./client/python
    .venv/bin/python examples/python/agent.py          # STEPLEDGER_TARGET, default :50051
    stepledger run show <the run id it prints>

Exit status: 0 when every step was acknowledged by the collector, 1 otherwise, 2 when the
budget asked for an acknowledgement (the synthesis is then skipped, as an agent would).
"""
import argparse
import concurrent.futures
import logging
import sys
import time

from stepledger import (BudgetGuard, BudgetRequiresAck, Recorder, RunContext, bind, new_id,
                        step, usage)

TAGS = dict(feature="inbox-triage", team="mail-assist", tenant="northwind-traders",
            workload_class="interactive", environment="production")


def search_tool(i, recorder):
    """A tool call owned by another team; the "calendar" one times out once and is retried."""
    name = ["search_mailbox", "calendar_lookup", "crm_contact"][i]
    operation = new_id("op-")
    for attempt in (1, 2):
        try:
            with step(name, kind="tool_call", recorder=recorder, tool_name=name,
                      tool_owner_team="workspace-platform", operation_id=operation,
                      attempt=attempt, cost_usd=0.0004):
                time.sleep(0.02)
                if name == "calendar_lookup" and attempt == 1:
                    raise TimeoutError(f"{name} timed out")
                return f"{name}: 3 results"
        except TimeoutError:
            continue
    return f"{name}: failed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", help="collector address (default STEPLEDGER_TARGET)")
    parser.add_argument("--run-id", help="run id (default: a new one)")
    parser.add_argument("--estimate-usd", type=float, default=0.05,
                        help="what the synthesis is expected to cost (budget check)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    recorder = Recorder(args.target, flush_interval=0.1)
    guard = BudgetGuard(args.target)
    status = 0
    with RunContext(**TAGS, run_id=args.run_id) as run:
        print(f"run {run.run_id}")
        with step("plan", kind="model_call", recorder=recorder) as planner:
            planner.provider, planner.model = "openai", "gpt-4o-2024-08-06"
            planner.usage = usage.from_openai({
                "prompt_tokens": 2400, "completion_tokens": 180,
                "prompt_tokens_details": {"cached_tokens": 2048}})
            # No cost: the collector prices this step from its catalog.
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                results = list(pool.map(bind(lambda i: search_tool(i, recorder)), range(3)))
            print("tools:", "; ".join(results))

            # Reserve before the step starts: a refused step is never run, so never recorded.
            synth = step("synthesize", kind="model_call", recorder=recorder)
            try:
                with guard.reserve(args.estimate_usd, synth) as decision, synth:
                    print(f"budget: {decision.decision}" +
                          ("" if decision.checked else
                           f" (not checked: {decision.unchecked_reason})"))
                    synth.provider, synth.model = "anthropic", "claude-sonnet-4-5"
                    synth.usage = usage.from_anthropic({
                        "input_tokens": 900, "cache_read_input_tokens": 6000,
                        "cache_creation_input_tokens": 1200, "output_tokens": 650})
                    synth.cost_usd = 0.0185  # the gateway's reported cost settles the hold
            except BudgetRequiresAck as e:
                print(f"budget: stop and ask a human: {e}")
                status = 2

    acked = recorder.close(timeout=10)
    stats = recorder.stats()
    print(f"recorded {stats.recorded}: accepted {stats.accepted}, duplicates "
          f"{stats.duplicates}, rejected {stats.rejected}, unacked {stats.pending}")
    if not acked:
        print(f"not every step was acknowledged: {stats.last_error}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
