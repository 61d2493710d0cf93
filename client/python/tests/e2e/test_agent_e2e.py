"""The Python client against a real collector and PostgreSQL.

A simulated agent (planner, parallel tool calls, a retried call, synthesis) records through
Recorder while the collector is killed with SIGKILL and restarted; the ledger must then hold
exactly the events the agent recorded, each once, with its tree intact. A gateway killed with
SIGKILL loses nothing record() accepted when it has a spool. BudgetGuard and the LiteLLM
callback go through the same collector.
"""
import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from stepledger import (REQUIRE_ACK, BudgetGuard, BudgetRequiresAck, Recorder, RunContext,
                        bind, step, usage)
from stepledger.integrations.litellm import StepledgerCallback
from stepledger.v1 import budget_pb2, budget_pb2_grpc

TAGS = dict(feature="inbox-triage", team="mail-ai", tenant="acme",
            workload_class="interactive", environment="production")


class CapturingRecorder:
    """Passes events to a Recorder and keeps what the agent recorded, for the comparison."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.recorded = {}
        self.lock = threading.Lock()

    def record(self, event):
        assert self.recorder.record(event)
        with self.lock:
            self.recorded[event.event_id] = (event.step_id, event.parent_step_id,
                                             event.tags.parent_run_id, event.attempt,
                                             event.cost_nano_usd)
        return True


def child_env(collector):
    """The environment for a client in a child process: the collector's CA and API key."""
    env = dict(os.environ)
    env["STEPLEDGER_CA_CERT"] = collector.ca_cert_path
    env["STEPLEDGER_API_KEY"] = collector.client_options["api_key"]
    return env


def agent_run(rec, pool, n):
    """One user task: planner -> 3 parallel tools (one fails once and is retried) ->
    synthesis. Every step reports its cost, so the ledger's sums are known exactly."""
    with RunContext(**TAGS, run_id=f"run-e2e-{n:03d}"):
        with step("planner", kind="model_call", recorder=rec) as planner:
            planner.provider, planner.model = "openai", "gpt-4o"
            planner.usage = usage.from_openai({"prompt_tokens": 900, "completion_tokens": 60,
                                               "prompt_tokens_details": {"cached_tokens": 512}})
            planner.cost_nano_usd = 1_000_000 + n

            def tool(i):
                attempts = 2 if i == 1 else 1
                for attempt in range(1, attempts + 1):
                    try:
                        with step(f"tool-{i}", kind="tool_call", recorder=rec,
                                  tool_name=f"tool-{i}", operation_id=f"op-{n}-{i}",
                                  attempt=attempt, cost_nano_usd=10_000 * (i + 1)):
                            time.sleep(0.005)
                            if attempt < attempts:
                                raise TimeoutError("tool timed out")
                    except TimeoutError:
                        continue

            list(pool.map(bind(tool), range(3)))
            with step("synthesis", kind="model_call", recorder=rec, model="gpt-4o",
                      cost_nano_usd=2_000_000):
                time.sleep(0.005)


def ledger(db):
    rows = db.query("SELECT event_id, step_id, parent_step_id, parent_run_id, attempt, "
                    "cost_nano_usd FROM steps ORDER BY event_id")
    out = {}
    for line in rows.splitlines():
        event_id, step_id, parent, run, attempt, cost = line.split("|")
        assert event_id not in out, f"{event_id} stored twice"
        out[event_id] = (step_id, parent, run, int(attempt), int(cost))
    return out


def test_agent_through_a_collector_killed_and_restarted_is_stored_exactly_once(collector):
    recorder = Recorder(**collector.client_options, batch_size=4, flush_interval=0.05,
                        backoff_initial=0.05, backoff_max=0.5, close_on_exit=False)
    rec = CapturingRecorder(recorder)
    runs = 24
    killed = threading.Event()

    def agent():
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            for n in range(runs):
                agent_run(rec, pool, n)
                time.sleep(0.06)  # about 2 s in all: the kill and restart happen mid-run
                if n == 2 * runs // 3:
                    # However slow the machine, the last third is recorded after the kill.
                    killed.wait(30)

    thread = threading.Thread(target=agent)
    thread.start()
    deadline = time.monotonic() + 30
    while recorder.stats().accepted < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    collector.process.kill()  # SIGKILL while the agent records and batches are in flight
    collector.process.wait()
    killed.set()
    recorded_at_kill = len(rec.recorded)
    time.sleep(1.0)
    recorded_while_down = len(rec.recorded) - recorded_at_kill
    collector.restart_after_kill()
    thread.join(60)
    assert not thread.is_alive()
    assert recorder.flush(timeout=60), recorder.stats()
    stats = recorder.stats()
    recorder.close(timeout=10)

    assert len(rec.recorded) == runs * 6  # planner, 3 tools + 1 retry, synthesis
    assert ledger(collector.db) == rec.recorded  # every event, exactly once, as recorded
    assert collector.db.query("SELECT count(*) FROM quarantine") == "0"
    assert stats.stream_failures >= 1
    assert recorded_while_down > 0 and recorded_at_kill < len(rec.recorded)
    assert stats.accepted + stats.duplicates == len(rec.recorded)
    assert (stats.rejected, stats.dropped, stats.pending) == (0, 0, 0)
    # The tree: tools and synthesis are children of the planner; the retry is attempt 2.
    run0 = {v[0]: v for v in rec.recorded.values() if v[2] == "run-e2e-000"}
    planner_id = next(k for k, v in run0.items() if v[1] == "")
    assert sum(1 for v in run0.values() if v[1] == planner_id) == 5
    assert sorted(v[3] for v in run0.values()) == [1, 1, 1, 1, 1, 2]
    total = sum(v[4] for v in rec.recorded.values())
    assert collector.db.query("SELECT sum(cost_nano_usd) FROM steps") == str(total)


SPOOL_CHILD = textwrap.dedent("""
    import os, signal, sys
    from stepledger import Recorder, StepEvent
    target, spool, n_acked, n_unacked = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    def event(i):
        e = StepEvent(event_id=f"gw-{i}", step_id=f"gw-s-{i}", name="gateway-call",
                      cost_nano_usd=1000 + i)
        e.tags.feature, e.tags.team, e.tags.tenant = "inbox-triage", "mail-ai", "acme"
        e.tags.workload_class, e.tags.environment, e.tags.parent_run_id = 1, 1, "run-gw"
        return e
    rec = Recorder(target, spool_dir=spool, flush_interval=600, batch_size=1000,
                   close_on_exit=False)
    for i in range(n_acked):
        rec.record(event(i))
    assert rec.flush(timeout=30)
    for i in range(n_acked, n_acked + n_unacked):
        rec.record(event(i))     # accepted, never sent: the flush interval is 10 minutes
    print("recorded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_gateway_killed_with_sigkill_loses_nothing_its_spool_accepted(collector, tmp_path):
    spool = str(tmp_path / "spool")
    child = subprocess.run([sys.executable, "-c", SPOOL_CHILD, collector.target, spool, "30",
                            "20"], capture_output=True, text=True, timeout=60,
                           env=child_env(collector))
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "recorded" in child.stdout
    assert collector.db.query("SELECT count(*) FROM steps") == "30"

    recorder = Recorder(**collector.client_options, spool_dir=spool, flush_interval=0.05,
                        close_on_exit=False)
    assert recorder.stats().replayed == 20  # only what was never acked
    assert recorder.flush(timeout=30)
    stats = recorder.stats()
    assert recorder.close(timeout=10)
    assert (stats.accepted, stats.duplicates) == (20, 0)
    ids = collector.db.query("SELECT event_id FROM steps ORDER BY event_id").split()
    assert sorted(ids) == sorted(f"gw-{i}" for i in range(50))
    assert sorted(os.listdir(spool)) == ["LOCK"]  # everything acked: segments deleted


def put_cap(options, limit_nano_usd):
    from stepledger.config import call_metadata, make_channel
    with make_channel(options["target"], options.get("credentials")) as channel:
        budget_pb2_grpc.BudgetStub(channel).PutBudget(budget_pb2.PutBudgetRequest(
            cap=budget_pb2.Cap(id="mail-ai-daily", scope=budget_pb2.SCOPE_TEAM, key="mail-ai",
                               environment=1, period=budget_pb2.PERIOD_DAILY,
                               limit_nano_usd=limit_nano_usd,
                               action=budget_pb2.CAP_ACTION_REQUIRE_ACK, owner="mail-ai-lead",
                               signed_off_by="finance"),
            changed_by="pyclient-e2e"), timeout=30,
            metadata=call_metadata(options.get("api_key")))


def test_budget_guard_reserves_then_requires_acknowledgement_past_the_cap(collector):
    put_cap(collector.client_options, 1_000_000_000)  # $1 a day
    guard = BudgetGuard(**collector.client_options, timeout=5)
    recorder = Recorder(**collector.client_options, flush_interval=0.05, close_on_exit=False)
    with RunContext(**TAGS):
        with step("synthesis", kind="model_call", recorder=recorder) as s:
            with guard.reserve(0.40, s) as decision:
                assert decision.checked and decision.allowed and decision.reservation_id
                assert [c.cap_id for c in decision.caps] == ["mail-ai-daily"]
                s.cost_usd = 0.90  # the actual cost settles the reservation
        assert recorder.flush(timeout=30)
        assert guard.check(0.05).allowed
        with pytest.raises(BudgetRequiresAck) as raised:
            guard.require(0.50)
    decision = raised.value.decision
    assert decision.decision == REQUIRE_ACK and decision.checked
    (cap,) = decision.caps_to_acknowledge()
    assert (cap.cap_id, cap.owner, cap.spent_nano_usd) == ("mail-ai-daily", "mail-ai-lead",
                                                           900_000_000)
    assert "mail-ai-daily" in str(raised.value)
    assert guard.stats()["require_ack"] == 1
    recorder.close(timeout=10)


def test_litellm_callback_records_a_logged_call_into_the_ledger(collector):
    recorder = Recorder(**collector.client_options, flush_interval=0.05, close_on_exit=False)
    cb = StepledgerCallback(recorder=recorder)
    now = time.time()
    payload = {"id": "chatcmpl-e2e", "call_type": "completion", "response_cost": 0.0042,
               "status": "success", "prompt_tokens": 1200, "completion_tokens": 100,
               "startTime": now - 1.5, "endTime": now, "model": "gpt-4o",
               "custom_llm_provider": "openai",
               "metadata": {"requester_metadata": {"stepledger": dict(TAGS, run_id="run-llm")}},
               "response": {"model": "gpt-4o-2024-08-06",
                            "usage": {"prompt_tokens": 1200, "completion_tokens": 100,
                                      "prompt_tokens_details": {"cached_tokens": 1000}}}}
    kwargs = {"standard_logging_object": payload, "litellm_params": {"metadata": {}}}
    cb.log_success_event(kwargs, None, None, None)
    cb.log_success_event(kwargs, None, None, None)  # LiteLLM logging the same call again
    assert recorder.flush(timeout=30)
    assert recorder.close(timeout=10)
    row = collector.db.query("SELECT event_id, model, cost_nano_usd, cost_source, "
                             "input_uncached_tokens, cache_read_tokens, output_tokens "
                             "FROM steps")
    assert row == "litellm-chatcmpl-e2e|gpt-4o-2024-08-06|4200000|reported|200|1000|100"
    assert (recorder.stats().accepted, recorder.stats().duplicates) == (1, 1)


def test_the_readme_example_agent_runs_and_its_run_is_in_the_ledger(collector):
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..",
                           "examples", "python", "agent.py")
    result = subprocess.run([sys.executable, example, "--target", collector.target,
                             "--run-id", "run-example-1"], capture_output=True, text=True,
                            timeout=60, env=child_env(collector))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "budget: ALLOW" in result.stdout
    rows = collector.db.query("SELECT name, attempt, parent_step_id = '' FROM steps "
                              "WHERE parent_run_id = 'run-example-1' ORDER BY name, attempt")
    assert rows.splitlines() == ["calendar_lookup|1|f", "calendar_lookup|2|f",
                                 "crm_contact|1|f", "plan|1|t", "search_mailbox|1|f",
                                 "synthesize|1|f"]
