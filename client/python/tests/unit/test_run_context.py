"""RunContext and Step: ids, tags and parents through nested calls, threads and asyncio."""
import asyncio
import concurrent.futures

import pytest

from stepledger import RunContext, bind, current_run, current_step, step
from stepledger.v1 import steps_pb2


class ListRecorder:
    def __init__(self):
        self.events = []

    def record(self, event):
        self.events.append(event)
        return True


def run_ctx(**kw):
    tags = dict(feature="inbox-triage", team="mail-ai", tenant="acme",
                workload_class="interactive", environment="production")
    tags.update(kw)
    return RunContext(**tags)


def test_run_carries_the_six_tags_and_a_fresh_run_id():
    run = run_ctx()
    tags = run.tags()
    assert (tags.feature, tags.team, tags.tenant) == ("inbox-triage", "mail-ai", "acme")
    assert tags.workload_class == steps_pb2.WORKLOAD_CLASS_INTERACTIVE
    assert tags.environment == steps_pb2.ENVIRONMENT_PRODUCTION
    assert tags.parent_run_id == run.run_id and run.run_id.startswith("run-")
    assert run_ctx().run_id != run.run_id


def test_bad_enum_tag_names_the_field():
    with pytest.raises(ValueError, match="tags.environment"):
        run_ctx(environment="prod")
    with pytest.raises(ValueError, match="tags.workload_class"):
        run_ctx(workload_class="urgent")


def test_nested_steps_are_children_and_each_is_recorded_with_the_run_tags():
    rec = ListRecorder()
    with run_ctx() as run:
        assert current_run() is run
        with step("planner", kind="model_call", recorder=rec) as planner:
            planner.model, planner.cost_usd = "gpt-4o", 0.0042
            with step("search", kind="tool_call", recorder=rec, tool_name="search") as tool:
                assert current_step() is tool
            assert current_step() is planner
        assert current_step() is None
    assert current_run() is None
    tool_event, planner_event = rec.events
    assert planner_event.parent_step_id == ""
    assert tool_event.parent_step_id == planner_event.step_id
    assert tool_event.kind == steps_pb2.STEP_KIND_TOOL_CALL
    assert planner_event.cost_nano_usd == 4_200_000
    assert not tool_event.HasField("cost_nano_usd")  # absent: the collector prices it
    for e in rec.events:
        assert e.tags.parent_run_id == run.run_id and e.tags.team == "mail-ai"
        assert e.status == "ok" and e.event_id and e.HasField("started_at")
        assert e.ended_at.ToNanoseconds() >= e.started_at.ToNanoseconds()


def test_a_step_that_raises_is_recorded_as_error_and_the_exception_propagates():
    rec = ListRecorder()
    with run_ctx():
        with pytest.raises(RuntimeError):
            with step("flaky", recorder=rec, operation_id="op-1", attempt=2):
                raise RuntimeError("boom")
    (event,) = rec.events
    assert (event.status, event.operation_id, event.attempt) == ("error", "op-1", 2)


def test_to_event_is_deterministic_so_a_resend_is_identical():
    with run_ctx():
        with step("x") as s:
            pass
    assert s.to_event().SerializeToString(deterministic=True) == \
        s.to_event().SerializeToString(deterministic=True)


def test_step_outside_a_run_is_an_error():
    with pytest.raises(ValueError, match="RunContext"):
        step("orphan")


def test_unknown_step_field_is_an_error():
    with run_ctx():
        with pytest.raises(TypeError, match="costusd"):
            step("x", costusd=1)


def test_thread_pool_work_keeps_run_and_parent_with_bind():
    rec = ListRecorder()
    with run_ctx():
        with step("planner", recorder=rec) as planner:
            def tool(i):
                with step(f"tool-{i}", kind="tool_call", recorder=rec):
                    return current_run()
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                runs = list(pool.map(bind(tool), range(3)))
    assert all(r is not None for r in runs)
    children = [e for e in rec.events if e.name.startswith("tool-")]
    assert len(children) == 3
    assert {e.parent_step_id for e in children} == {planner.step_id}


def test_asyncio_tasks_inherit_the_step_that_gathered_them():
    rec = ListRecorder()

    async def tool(i):
        with step(f"tool-{i}", kind="tool_call", recorder=rec):
            await asyncio.sleep(0.01)

    async def agent():
        with run_ctx():
            with step("planner", recorder=rec) as planner:
                await asyncio.gather(*(tool(i) for i in range(4)))
            return planner

    planner = asyncio.run(agent())
    children = [e for e in rec.events if e.name.startswith("tool-")]
    assert len(children) == 4 and {e.parent_step_id for e in children} == {planner.step_id}


def test_a_run_entered_inside_another_runs_step_starts_a_fresh_tree():
    rec = ListRecorder()
    with run_ctx():
        with step("outer", recorder=rec):
            with run_ctx(feature="other") as inner:
                with step("inner-root", recorder=rec):
                    pass
    inner_event = rec.events[0]
    assert inner_event.parent_step_id == "" and inner_event.tags.parent_run_id == inner.run_id
