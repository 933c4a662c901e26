// Prediction and label spans from a Node.js service, following docs/semantic-conventions.md,
// exported by the OpenTelemetry JS SDK's OTLP/HTTP exporter (which sends OTLP/JSON).
//
//   node send_predictions.js http://127.0.0.1:4318
//
// Prints one JSON line: what was sent (ids, times, trace and span ids), for the test to
// compare with the rows. Exits 1 if any export failed.

"use strict";

const { diag, DiagConsoleLogger, DiagLogLevel, SpanKind, SpanStatusCode } = require("@opentelemetry/api");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http");
const { resourceFromAttributes } = require("@opentelemetry/resources");
const { BatchSpanProcessor, NodeTracerProvider } = require("@opentelemetry/sdk-trace-node");

diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);

// Wraps the real exporter to remember failed exports (the batch processor only logs them).
class CheckedExporter {
  constructor(inner) {
    this.inner = inner;
    this.failures = [];
  }
  export(spans, done) {
    this.inner.export(spans, (result) => {
      if (result.code !== 0) this.failures.push(String(result.error));
      done(result);
    });
  }
  shutdown() {
    return this.inner.shutdown();
  }
  forceFlush() {
    return this.inner.forceFlush();
  }
}

// A fixed recent second, so that times compare exactly (HrTime: [seconds, nanoseconds]).
const SECOND = Math.floor(Date.now() / 1000) - 60;
const at = (offsetMs, nanos) => [SECOND + Math.floor(offsetMs / 1000), (offsetMs % 1000) * 1e6 + nanos];
const toNs = ([seconds, nanos]) => (BigInt(seconds) * 1000000000n + BigInt(nanos)).toString();

function recordSpan(tracer, name, attributes, start, end, error) {
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: start });
  if (error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end(end);
  const context = span.spanContext();
  return { traceId: context.traceId, spanId: context.spanId, start: toNs(start), end: toNs(end) };
}

const FRAUD = { "ml.model.name": "fraud", "ml.model.version": "3.1", "ml.task": "binary_classification" };
const PRICE = { "ml.model.name": "price", "ml.model.version": "7", "ml.task": "regression" };

function sendAll(tracer) {
  const sent = {};
  sent.single = recordSpan(tracer, "predict fraud", {
    ...FRAUD,
    "ml.prediction.id": "node-single-1",
    "ml.prediction.label": "1",
    "ml.prediction.score": 0.93,
    "ml.prediction.count": 1,
    "ml.segment.region": "eu",
  }, at(0, 111), at(2, 500111));
  sent.failed = recordSpan(tracer, "predict fraud", {
    ...FRAUD,
    "ml.prediction.id": "node-failed-1",
    "ml.prediction.count": 1,
  }, at(10, 7), at(14, 7), new Error("model not loaded"));
  sent.batch = recordSpan(tracer, "predict fraud", {
    ...FRAUD,
    "ml.prediction.id": ["node-batch-1", "node-batch-2", "node-batch-3"],
    "ml.prediction.label": ["0", "1", "0"],
    "ml.prediction.score": [0.12, 0.88, 0.25],
    "ml.prediction.count": 3,
    "ml.segment.region": "us",
  }, at(20, 0), at(25, 0));
  sent.regression = recordSpan(tracer, "predict price", {
    ...PRICE,
    "ml.prediction.id": ["node-price-1", "node-price-2"],
    "ml.prediction.value": [12.5, 7.25],
    "ml.prediction.count": 2,
  }, at(30, 0), at(31, 0));
  sent.labels = recordSpan(tracer, "ml.label", {
    "ml.model.name": "fraud",
    "ml.prediction.id": ["node-single-1", "node-batch-1", "node-batch-2"],
    "ml.label": ["1", "1", "0"],
  }, at(500, 0), at(500, 0));
  sent.valueLabel = recordSpan(tracer, "ml.label", {
    "ml.model.name": "price",
    "ml.prediction.id": "node-price-1",
    "ml.label.value": 13.75,
  }, at(600, 0), at(600, 0));
  return sent;
}

async function main(baseUrl) {
  const exporter = new CheckedExporter(new OTLPTraceExporter({ url: `${baseUrl}/v1/traces` }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "node-fraud-api" }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const sent = sendAll(provider.getTracer("inferwatch-node-test", "1.0.0"));
  await provider.shutdown();
  if (exporter.failures.length) {
    console.error(`export failed: ${exporter.failures.join("; ")}`);
    process.exit(1);
  }
  console.log(JSON.stringify(sent));
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
