// Emits one small agent run with the real OpenTelemetry JavaScript SDK to the collector named by
// argv[2] (host:port), one export per span (children before their parents, as SDKs send them),
// then prints {"traceId": "..."} on stdout. argv[3] picks the exporter: grpc (OTLP/gRPC, the
// default), http-proto (OTLP/HTTP binary protobuf, gzip) or http-json (OTLP/HTTP JSON).
// Exit status 0 only when the exporter reported success for every export.
// Credentials come from the exporters' standard environment: OTEL_EXPORTER_OTLP_HEADERS (the
// API key, `authorization=Bearer%20<key>`) on every transport, and OTEL_EXPORTER_OTLP_CERTIFICATE
// (the CA file) for TLS on OTLP/gRPC; the collector's OTLP/HTTP listener is plaintext loopback.
//
// The run: an invoke_agent root (INTERNAL) reporting its children's usage sum; a chat call with
// cache-read and reasoning tokens and a cost; an HTTP span under it (no gen_ai.*); an
// execute_tool call with a numeric cost; a chat call reporting the older attribute names; an
// embedding without a cost (priced or left unpriced by the collector).
// The packages are installed by `make deps` into a folder of the build tree
// (STEPLEDGER_OTEL_JS_DIR, see install_js.sh), not next to this file: load them from there.
import { createRequire } from 'node:module';
import path from 'node:path';

const jsDir = process.env.STEPLEDGER_OTEL_JS_DIR;
if (!jsDir) {
  console.error('STEPLEDGER_OTEL_JS_DIR is not set (run `make deps`, then the test)');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(jsDir), 'package.json'));
const { context, trace, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const target = process.argv[2];
if (!target) {
  console.error('usage: node emit_agent_run.mjs host:port');
  process.exit(2);
}

const protocol = process.argv[3] ?? 'grpc';
let inner;
if (protocol === 'grpc') {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
  const scheme = process.env.OTEL_EXPORTER_OTLP_CERTIFICATE ? 'https' : 'http';
  inner = new OTLPTraceExporter({ url: `${scheme}://${target}` });
} else if (protocol === 'http-proto') {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
  inner = new OTLPTraceExporter({ url: `http://${target}/v1/traces`, compression: 'gzip' });
} else if (protocol === 'http-json') {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
  inner = new OTLPTraceExporter({ url: `http://${target}/v1/traces` });
} else {
  console.error(`unknown protocol ${protocol}`);
  process.exit(2);
}
const failures = [];
// The SDK's exporter, with its result checked: a failed export must fail the test.
const exporter = {
  export(spans, done) {
    inner.export(spans, (result) => {
      if (result.code !== 0) failures.push(String(result.error));
      done(result);
    });
  },
  shutdown: () => inner.shutdown(),
  forceFlush: () => inner.forceFlush(),
};

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({
    'service.name': 'triage-agent',
    'stepledger.feature': 'inbox-triage',
    'stepledger.team': 'mail',
    'stepledger.tenant': 'acme',
    'stepledger.workload_class': 'interactive',
    'deployment.environment.name': 'production',
  }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('stepledger-e2e');

const under = (parent) => trace.setSpan(context.active(), parent);

const agent = tracer.startSpan('invoke_agent triage', {
  kind: SpanKind.INTERNAL,
  attributes: {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'triage',
    'gen_ai.usage.input_tokens': 1250,
  },
});

const chat = tracer.startSpan('chat gpt-4o', {
  kind: SpanKind.CLIENT,
  attributes: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.usage.cache_read.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.reasoning.output_tokens': 100,
    'stepledger.cost_usd': '0.0042',
  },
}, under(agent));
const http = tracer.startSpan('POST', {
  kind: SpanKind.CLIENT,
  attributes: { 'http.request.method': 'POST' },
}, under(chat));
http.end();
chat.setStatus({ code: SpanStatusCode.OK });
chat.end();

const tool = tracer.startSpan('execute_tool web_search', {
  attributes: {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'web_search',
    'stepledger.tool_owner_team': 'search-infra',
    'stepledger.cost_usd': 0.001,
  },
}, under(agent));
tool.end();

const chat2 = tracer.startSpan('chat', {
  kind: SpanKind.CLIENT,
  attributes: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'anthropic',
    'gen_ai.request.model': 'claude-test',
    'gen_ai.usage.prompt_tokens': 50,
    'gen_ai.usage.completion_tokens': 10,
    'stepledger.cost_usd': '0.0015',
  },
}, under(agent));
chat2.end();

const embed = tracer.startSpan('embeddings', {
  kind: SpanKind.CLIENT,
  attributes: {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.request.model': 'no-such-embedding-model',
    'gen_ai.usage.input_tokens': 64,
  },
}, under(agent));
embed.end();
agent.end();

await provider.forceFlush();
await provider.shutdown();
if (failures.length > 0) {
  console.error(`export failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log(JSON.stringify({ traceId: agent.spanContext().traceId }));
