import { context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationType,
  MeterProvider,
  type MetricReader,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** One service's OpenTelemetry SDK, set up the way a user's service would set it up. */
export interface ServiceTelemetry {
  readonly service: string;
  readonly tracer: Tracer;
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  shutdown(): Promise<void>;
}

// Finer buckets than the semconv advice (which starts at 5 ms), so the demo's summary can
// show sub-millisecond percentiles. A view is the SDK user's choice; Baton keeps the advice.
const FINE_BOUNDARIES = [
  0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
  0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10,
];
const views: ViewOptions[] = [
  'messaging.process.duration',
  'baton.consumer.time_in_queue',
  'messaging.client.operation.duration',
].map((instrumentName) => ({
  instrumentName,
  aggregation: {
    type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
    options: { boundaries: FINE_BOUNDARIES },
  },
}));

/** Registers the AsyncLocalStorage context manager, as the Node SDK does. Idempotent. */
export function registerContextManager(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/** Creates the trace and metric providers of one service, with `service.name` set. */
export function createServiceTelemetry(
  service: string,
  sinks: { spanProcessors: SpanProcessor[]; metricReaders: MetricReader[] },
): ServiceTelemetry {
  const resource = resourceFromAttributes({ 'service.name': service });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: sinks.spanProcessors,
  });
  const meterProvider = new MeterProvider({ resource, readers: sinks.metricReaders, views });
  return {
    service,
    tracer: tracerProvider.getTracer(service),
    tracerProvider,
    meterProvider,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
