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
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** A scenario variant: set up once per round, then move `n` messages end to end. */
export interface Variant {
  run(n: number): Promise<void>;
  teardown(): Promise<void>;
}

/** How a bus scenario makes its three variants. */
export interface Scenario {
  name: string;
  /** Messages per round. */
  messages: number;
  /** Rounds per variant (interleaved; the median is reported). */
  rounds: number;
  bare(): Promise<Variant>;
  /** Baton-wrapped; `options` carries the providers (empty for the no-SDK variant). */
  baton(options: BatonOptions): Promise<Variant>;
  /**
   * Optional reference: OpenTelemetry propagation written by hand (inject on publish,
   * extract + process span on consume), with the same tracing SDK.
   */
  handWritten?(options: BatonOptions): Promise<Variant>;
}

/** One variant's figures. */
export interface Figures {
  variant: string;
  cpuUsPerMessage: number;
  messagesPerSecond: number;
}

const discardingSpanExporter: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};
const discardingMetricExporter: PushMetricExporter = {
  export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** An SDK that records every span (BatchSpanProcessor) and every metric, then discards them. */
export function createDiscardingSdk() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator()); // for the hand-written variant
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
  return {
    options: { tracerProvider, meterProvider } satisfies BatonOptions,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      context.disable();
      propagation.disable();
      trace.disable();
      metrics.disable();
    },
  };
}

async function measureOnce(variant: Variant, n: number) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await variant.run(n);
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / n, perSecond: n / (wallNs / 1e9) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Runs bare, Baton with no SDK and Baton with an SDK, interleaved round by round. */
export async function compare(scenario: Scenario): Promise<Figures[]> {
  const kinds: string[] = [
    'bare',
    'baton, no SDK',
    'baton + SDK, traces only',
    'baton + SDK, traces+metrics',
  ];
  if (scenario.handWritten) kinds.push('hand-written OTel, traces');
  const samples = new Map(kinds.map((k) => [k, { cpu: [] as number[], rate: [] as number[] }]));
  // One warm-up round per variant (JIT, connections), not counted.
  for (let round = -1; round < scenario.rounds; round++) {
    for (const kind of kinds) {
      const sdk = kind.includes('SDK') || kind.includes('OTel') ? createDiscardingSdk() : undefined;
      let options: BatonOptions = {};
      if (sdk) {
        options = kind.includes('metrics')
          ? sdk.options
          : { tracerProvider: sdk.options.tracerProvider };
      }
      let variant: Variant;
      if (kind === 'bare') variant = await scenario.bare();
      else if (kind.startsWith('hand-written') && scenario.handWritten) {
        variant = await scenario.handWritten(options);
      } else variant = await scenario.baton(options);
      const result = await measureOnce(variant, scenario.messages);
      await variant.teardown();
      await sdk?.shutdown();
      if (round < 0) continue;
      samples.get(kind)?.cpu.push(result.cpuUs);
      samples.get(kind)?.rate.push(result.perSecond);
    }
  }
  return kinds.map((variant) => ({
    variant,
    cpuUsPerMessage: median(samples.get(variant)?.cpu ?? []),
    messagesPerSecond: median(samples.get(variant)?.rate ?? []),
  }));
}

/** Prints the figures as a table with the added CPU and the throughput ratio vs bare. */
export function report(scenario: Scenario, figures: Figures[]): string {
  const bare = figures[0];
  const lines = [
    `\n${scenario.name}: ${scenario.messages} messages x ${scenario.rounds} rounds (median), one process, one run`,
    `  ${'variant'.padEnd(30)} ${'CPU µs/msg'.padStart(11)} ${'added µs/msg'.padStart(13)} ${'msgs/s'.padStart(10)} ${'vs bare'.padStart(8)}`,
  ];
  for (const f of figures) {
    const added = bare ? f.cpuUsPerMessage - bare.cpuUsPerMessage : 0;
    const ratio = bare ? f.messagesPerSecond / bare.messagesPerSecond : 1;
    lines.push(
      `  ${f.variant.padEnd(30)} ${f.cpuUsPerMessage.toFixed(2).padStart(11)} ${(f === bare ? '-' : `+${added.toFixed(2)}`).padStart(13)} ${Math.round(f.messagesPerSecond).toString().padStart(10)} ${`${ratio.toFixed(2)}x`.padStart(8)}`,
    );
  }
  return lines.join('\n');
}
