// Exports one fixed set of spans, metrics and logs with the official OpenTelemetry JS SDK.
// Usage: node export.mjs <http/json|http/protobuf|grpc> <endpoint> [gzip]
// Prints the ids it generated as JSON, so the Python side can check every field arrived intact.
import { Metadata } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, ValueType, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

const [protocol, endpoint, compression] = process.argv.slice(2);
const modules = {
  'http/json': ['http', (signal) => `${endpoint}/v1/${signal}`],
  'http/protobuf': ['proto', (signal) => `${endpoint}/v1/${signal}`],
  grpc: ['grpc', () => endpoint],
};
if (!(protocol in modules)) {
  console.error(`protocol must be one of ${Object.keys(modules)}, got ${protocol}`);
  process.exit(2);
}
const [suffix, url] = modules[protocol];
const token = process.env.INTEROP_TOKEN;
const metadata = new Metadata();
if (token) metadata.set('authorization', `bearer ${token}`); // a lower-case scheme on purpose
const options = (signal) => ({
  url: url(signal),
  headers: protocol === 'grpc' || !token ? undefined : { authorization: `bearer ${token}` },
  metadata: protocol === 'grpc' ? metadata : undefined,
  compression: compression === 'gzip' ? 'gzip' : 'none',
  timeoutMillis: 10000,
});
const { OTLPTraceExporter } = await import(`@opentelemetry/exporter-trace-otlp-${suffix}`);
const { OTLPMetricExporter } = await import(`@opentelemetry/exporter-metrics-otlp-${suffix}`);
const { OTLPLogExporter } = await import(`@opentelemetry/exporter-logs-otlp-${suffix}`);

const resource = resourceFromAttributes({
  'service.name': 'js-interop',
  'service.version': '9.9.9',
  'deployment.environment.name': protocol,
});
const scope = ['interop.js', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }];

const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(options('traces')))],
});
const tracer = tracerProvider.getTracer(...scope);
const parent = tracer.startSpan('js.parent', { kind: SpanKind.SERVER });
const child = tracer.startSpan(
  'js.child',
  {
    kind: SpanKind.CLIENT,
    attributes: {
      'attr.string': 'text',
      'attr.bool': true,
      'attr.int': 42,
      'attr.double': 2.5,
      'attr.strings': ['a', 'b'],
      'attr.bools': [true, false],
      'attr.ints': [1, 2, 3],
      'attr.doubles': [0.5, 1.5],
    },
    links: [{ context: parent.spanContext(), attributes: { 'link.reason': 'follows' } }],
  },
  trace.setSpan(context.active(), parent),
);
child.addEvent('js.event', { 'event.count': 3, 'event.note': 'hello' });
child.setStatus({ code: SpanStatusCode.ERROR, message: 'js failure' });
child.end();
parent.end();
await tracerProvider.shutdown();

const exporter = new OTLPMetricExporter(options('metrics'));
const meterProvider = new MeterProvider({
  resource,
  views: [
    {
      instrumentName: 'js.exponential',
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
    },
  ],
  readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 })],
});
const meter = meterProvider.getMeter(...scope);
meter
  .createCounter('js.counter', { unit: '{request}', valueType: ValueType.INT })
  .add(5, { route: '/a' });
meter.createUpDownCounter('js.updown').add(-2, { pool: 'p1' });
const histogram = meter.createHistogram('js.histogram', { unit: 'ms' });
for (const value of [1, 7, 30]) histogram.record(value, { route: '/a' });
const exponential = meter.createHistogram('js.exponential', { unit: 's' });
for (const value of [0.5, 2, 4]) exponential.record(value);
meter
  .createObservableGauge('js.gauge', { unit: 'By' })
  .addCallback((result) => result.observe(12.75, { host: 'h1' }));
await meterProvider.shutdown();

const loggerProvider = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(options('logs')) })],
});
const logger = loggerProvider.getLogger(...scope);
logger.emit({
  severityNumber: SeverityNumber.WARN,
  severityText: 'WARN',
  body: 'js log line',
  attributes: { 'log.attr': 'value', 'log.count': 7 },
});
await loggerProvider.shutdown();

const ids = (span) => ({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
console.log(JSON.stringify({ parent: ids(parent), child: ids(child) }));
