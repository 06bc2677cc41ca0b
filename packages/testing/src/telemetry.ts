import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** A metric reader that exports nowhere: call `collect()` when you want the points. */
export class CollectingMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One metric data point, flattened for assertions. */
export interface MetricPoint {
  name: string;
  /** The instrumentation scope that recorded it (`@baton/kafkajs`, a contrib package, ...). */
  scope?: string;
  unit: string;
  attributes: Record<string, unknown>;
  /** Counter / gauge value. */
  value?: number;
  /** Histogram summary. */
  histogram?: {
    count: number;
    sum: number;
    min?: number;
    max?: number;
    buckets: { boundaries: number[]; counts: number[] };
  };
}

/** In-memory telemetry for tests: every span kept, metrics read on demand. */
export interface TestTelemetry {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  /** Both providers, to spread into an adapter's options: `{ ...telemetry.providers }`. */
  readonly providers: { tracerProvider: TracerProvider; meterProvider: MeterProvider };
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Reads every metric now. */
  metricPoints(): Promise<MetricPoint[]>;
  /** Forgets the spans recorded so far (metrics are cumulative per provider). */
  reset(): void;
  /** Unregisters globals it registered and shuts the providers down. */
  shutdown(): Promise<void>;
}

/** Options for {@link createTestTelemetry}. */
export interface TestTelemetryOptions {
  /** Register the providers as the global ones (for code that uses the globals). @defaultValue false */
  registerGlobal?: boolean;
  /** Extra span processors (e.g. one that throws, to test guards). */
  spanProcessors?: SpanProcessor[];
}

let contextManagerRegistered = false;
let contextManagerChecked = false;

/**
 * Makes sure an AsyncLocalStorage context manager is the global one, as an SDK would.
 * Idempotent; returns false when another manager was already registered.
 */
export function ensureContextManager(): boolean {
  if (contextManagerChecked) return contextManagerRegistered;
  contextManagerChecked = true;
  contextManagerRegistered = context.setGlobalContextManager(
    new AsyncLocalStorageContextManager().enable(),
  );
  return contextManagerRegistered;
}

/**
 * Runs `fn` with NO global context manager, as in an application without an
 * OpenTelemetry SDK, then registers the test context manager again. Nothing else may
 * run meanwhile (vitest runs one test of a file at a time).
 */
export async function withoutContextManager<R>(fn: () => Promise<R>): Promise<R> {
  context.disable();
  try {
    return await fn();
  } finally {
    context.disable();
    contextManagerChecked = true;
    contextManagerRegistered = context.setGlobalContextManager(
      new AsyncLocalStorageContextManager().enable(),
    );
  }
}

/** Creates in-memory trace and metric providers for a test. */
export function createTestTelemetry(options: TestTelemetryOptions = {}): TestTelemetry {
  ensureContextManager();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter }), ...(options.spanProcessors ?? [])],
  });
  const reader = new CollectingMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (options.registerGlobal) {
    trace.disable();
    metrics.disable();
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  }
  return {
    tracerProvider,
    meterProvider,
    providers: { tracerProvider, meterProvider },
    spans: () => exporter.getFinishedSpans().slice(),
    async metricPoints() {
      return metricPointsFrom((await reader.collect()).resourceMetrics);
    },
    reset: () => exporter.reset(),
    async shutdown() {
      if (options.registerGlobal) {
        trace.disable();
        metrics.disable();
      }
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** Flattens the SDK's collected metrics into {@link MetricPoint}s. */
export function metricPointsFrom(resourceMetrics: ResourceMetrics): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
        const base = {
          name: metric.descriptor.name,
          scope: scope.scope.name,
          unit: metric.descriptor.unit,
          attributes: { ...point.attributes },
        };
        if (typeof point.value === 'number') {
          points.push({ ...base, value: point.value });
          continue;
        }
        const h = point.value;
        points.push({
          ...base,
          histogram: {
            count: h.count,
            sum: h.sum ?? 0,
            ...(h.min !== undefined && { min: h.min }),
            ...(h.max !== undefined && { max: h.max }),
            buckets: { boundaries: [...h.buckets.boundaries], counts: [...h.buckets.counts] },
          },
        });
      }
    }
  }
  return points;
}

/** Sums the value (or histogram count) of every point of `name` matching `attributes`. */
export function sumMetric(
  points: readonly MetricPoint[],
  name: string,
  attributes: Record<string, unknown> = {},
): number {
  let total = 0;
  for (const point of points) {
    if (point.name !== name) continue;
    if (!Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
      continue;
    total += point.value ?? point.histogram?.count ?? 0;
  }
  return total;
}
