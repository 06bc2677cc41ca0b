import type { BatonOptions } from '@baton/core';
import { createLogger } from '@baton/pino';
import { createPrometheusMetrics } from '@baton/prometheus';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import pino from 'pino';

const discardingSpanExporter: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};
const discardingMetricExporter: PushMetricExporter = {
  export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

// What an SDK's start-up registers: an AsyncLocalStorage context manager and the W3C
// propagator (the hand-written references use the global propagation API).
function registerGlobals() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

function unregisterGlobals() {
  context.disable();
  propagation.disable();
  trace.disable();
  metrics.disable();
}

// A log destination that drops the line once pino has built it.
const discardingDestination = { write: (_line: string) => true };

/**
 * The logger of the handler line's handlers: every variant logs one line per message
 * (services do); with full telemetry it is `@baton/pino`'s (trace, span and correlation
 * ids on the line), otherwise plain pino. Both write to nowhere.
 */
export function createHandlerLogger(correlated: boolean) {
  return correlated
    ? createLogger({ name: 'bench' }, discardingDestination)
    : pino({ name: 'bench' }, discardingDestination);
}

/**
 * An SDK as a service runs it, sampling everything: spans through a BatchSpanProcessor,
 * metrics through a periodic reader (every second), both exported to nowhere. With
 * `'traces'` only the tracer provider goes into the options; `'full'` is the demo's
 * telemetry: traces + metrics and `@baton/prometheus`'s `/metrics` registry recording
 * every measurement with its exemplar (never scraped here: the cost is in the records).
 */
export function createDiscardingSdk(kind: 'traces' | 'traces+metrics' | 'full') {
  registerGlobals();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(discardingSpanExporter, {
        maxQueueSize: 65_536,
        maxExportBatchSize: 4096,
      }),
    ],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: discardingMetricExporter,
        exportIntervalMillis: 1000,
      }),
    ],
  });
  const options: BatonOptions =
    kind === 'traces' ? { tracerProvider } : { tracerProvider, meterProvider };
  const prometheus = kind === 'full' ? createPrometheusMetrics() : undefined;
  return {
    options,
    async shutdown() {
      prometheus?.stop();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      unregisterGlobals();
    },
  };
}

/** An SDK that keeps every span in memory (for check-reference.ts). */
export function createRecordingSdk() {
  registerGlobals();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    tracerProvider,
    spans: () => exporter.getFinishedSpans().slice(),
    async shutdown() {
      await tracerProvider.shutdown();
      unregisterGlobals();
    },
  };
}
