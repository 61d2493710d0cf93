"""W3C baggage propagation of the run and the calling step."""
from stepledger import RunContext, baggage, step
from stepledger.v1 import steps_pb2


def test_inject_then_extract_continues_the_run_under_the_calling_step():
    with RunContext(feature="inbox-triage", team="mail-ai", tenant="acme:eu/1",
                    workload_class="batch", environment="staging") as run:
        with step("planner") as planner:
            headers = baggage.inject({"Content-Type": "application/json"})
    assert headers["Content-Type"] == "application/json"
    assert "stepledger.tenant=acme%3Aeu%2F1" in headers["baggage"]  # percent-encoded
    remote = baggage.extract(headers)
    assert remote.run_id == run.run_id
    assert remote.parent_step_id == planner.step_id
    assert remote.tenant == "acme:eu/1"
    assert remote.workload_class == steps_pb2.WORKLOAD_CLASS_BATCH
    assert remote.environment == steps_pb2.ENVIRONMENT_STAGING
    with remote:
        with step("tool") as tool:
            pass
    assert tool.parent_step_id == planner.step_id
    assert tool.to_event().tags.parent_run_id == run.run_id


def test_other_vendors_members_are_kept_and_ours_replaced():
    headers = {"Baggage": "userId=alice, stepledger.run_id=old;prop=1,isProduction=false"}
    with RunContext(feature="f", team="t", tenant="x", workload_class="eval",
                    environment="eval", run_id="run-new"):
        baggage.inject(headers)
    assert list(headers) == ["baggage"]
    members = headers["baggage"].split(",")
    assert "stepledger.run_id=run-new" in members
    assert "userId=alice" in members and "isProduction=false" in members
    assert not any(m.startswith("stepledger.run_id=old") for m in members)


def test_extract_ignores_properties_and_headers_without_a_run():
    got = baggage.extract({"baggage": "stepledger.run_id=r-1;ttl=3 , stepledger.team=t"})
    assert got.run_id == "r-1" and got.team == "t"
    assert baggage.extract({"baggage": "userId=alice"}) is None
    assert baggage.extract({}) is None


def test_inject_without_a_run_changes_nothing():
    assert baggage.inject({"a": "b"}) == {"a": "b"}
