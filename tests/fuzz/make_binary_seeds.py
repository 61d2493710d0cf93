#!/usr/bin/python3
"""Writes the binary seeds of tests/fuzz/corpus/ (step_batch, otlp_protobuf) from the readable
examples: examples/steps.jsonl and corpus/otlp_json/*.json. Run again after changing those, or
the protos; the seeds are committed, so a fuzz run does not need this script.

  protoc --proto_path=proto --python_out=/tmp/pygen $(cd proto && find stepledger opentelemetry -name '*.proto')
  PYTHONPATH=/tmp/pygen /usr/bin/python3 tests/fuzz/make_binary_seeds.py
"""
import base64
import gzip
import json
import pathlib

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from stepledger.internal import step_wire_pb2
from stepledger.v1 import steps_pb2

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/fuzz/corpus"


def write(target, name, data):
    (CORPUS / target / name).write_bytes(data)


def step_batches():
    events = [json_format.Parse(line, steps_pb2.StepEvent())
              for line in (ROOT / "examples/steps.jsonl").read_text().splitlines() if line.strip()]
    batch = steps_pb2.StepBatch(sequence=1, events=events)
    write("step_batch", "examples_all.bin", batch.SerializeToString())
    write("step_batch", "examples_first.bin",
          steps_pb2.StepBatch(sequence=2, events=events[:1]).SerializeToString())
    # A production child step without feature/team/tenant: accepted as pending (inherits).
    child = steps_pb2.StepEvent()
    child.CopyFrom(events[1])
    child.event_id = "evt-child-pending"
    child.tags.ClearField("feature")
    child.tags.ClearField("team")
    child.tags.ClearField("tenant")
    write("step_batch", "pending_child.bin",
          steps_pb2.StepBatch(sequence=3, events=[child]).SerializeToString())
    # Staging without tags: defaulted to "(unattributed)".
    staging = steps_pb2.StepEvent(event_id="evt-staging-1", step_id="s1", name="draft",
                                  kind=steps_pb2.STEP_KIND_MODEL_CALL, provider="openai",
                                  model="gpt-4o-mini")
    staging.tags.environment = steps_pb2.ENVIRONMENT_STAGING
    write("step_batch", "staging_untagged.bin",
          steps_pb2.StepBatch(sequence=4, events=[staging]).SerializeToString())
    # Bytes the API's reading refuses (not UTF-8), which only the lenient reading takes.
    wire = step_wire_pb2.WireStepBatch()
    wire.ParseFromString(steps_pb2.StepBatch(sequence=5, events=events[:2]).SerializeToString())
    wire.events[0].name = b"plan\xff\xfener"
    wire.events[0].attributes.add(key=b"k\x00ey", value=b"v\xc3")
    write("step_batch", "lenient_not_utf8.bin", wire.SerializeToString())


def hex_ids_to_base64(doc):
    for resource in doc.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return doc


def otlp_requests():
    for path in sorted((CORPUS / "otlp_json").glob("*.json")):
        doc = hex_ids_to_base64(json.loads(path.read_text()))
        request = json_format.Parse(json.dumps(doc), trace_service_pb2.ExportTraceServiceRequest(),
                                    ignore_unknown_fields=True)
        data = request.SerializeToString()
        write("otlp_protobuf", path.stem + ".bin", data)
        if path.stem == "agent_run":
            write("otlp_protobuf", path.stem + ".bin.gz", gzip.compress(data, mtime=0))


step_batches()
otlp_requests()
