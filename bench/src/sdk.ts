import type { BatonOptions } from '@baton/core';
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

/**
 * An SDK as a service runs it, sampling everything: spans through a BatchSpanProcessor,
 * metrics through a periodic reader (every second), both exported to nowhere. With
 * `'traces'` only the tracer provider goes into the options.
 */
export function createDiscardingSdk(kind: 'traces' | 'traces+metrics') {
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
    kind === 'traces+metrics' ? { tracerProvider, meterProvider } : { tracerProvider };
  return {
    options,
    async shutdown() {
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
