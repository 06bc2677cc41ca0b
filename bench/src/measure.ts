import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  /** Uncounted rounds before the measured one, in the same process. @defaultValue 2 */
  warmupRounds?: number;
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

/** The variants, in the order they are run and reported, and what each one sets up. */
const VARIANT_SETUP = {
  bare: { sdk: 'none', code: 'bare' },
  'baton, no SDK': { sdk: 'none', code: 'baton' },
  'baton + SDK, traces only': { sdk: 'traces', code: 'baton' },
  'baton + SDK, traces+metrics': { sdk: 'traces+metrics', code: 'baton' },
  'hand-written OTel, traces': { sdk: 'traces', code: 'handWritten' },
} as const;
export type VariantName = keyof typeof VARIANT_SETUP;
export const VARIANTS = Object.keys(VARIANT_SETUP) as VariantName[];

/**
 * Measures one variant in this process: sets it up, runs the warm-up rounds (JIT,
 * connections) and one measured round of `scenario.messages`, tears it down.
 */
export async function measureVariant(scenario: Scenario, name: string) {
  const setup = VARIANT_SETUP[name as VariantName];
  if (setup === undefined) throw new Error(`bench: unknown variant "${name}"`);
  const sdk = setup.sdk === 'none' ? undefined : createDiscardingSdk();
  let options: BatonOptions = {};
  if (sdk) {
    options =
      setup.sdk === 'traces+metrics' ? sdk.options : { tracerProvider: sdk.options.tracerProvider };
  }
  let variant: Variant;
  if (setup.code === 'bare') variant = await scenario.bare();
  else if (setup.code === 'handWritten' && scenario.handWritten) {
    variant = await scenario.handWritten(options);
  } else variant = await scenario.baton(options);
  // Warm-up rounds, not counted: V8 needs a few tens of thousands of messages to reach its
  // steady state (measured: 16 -> 5 -> 3 µs per message over the first three rounds).
  for (let i = 0; i < (scenario.warmupRounds ?? 2); i++) await variant.run(scenario.messages);
  const result = await measureOnce(variant, scenario.messages);
  await variant.teardown();
  await sdk?.shutdown();
  return result;
}

/**
 * Runs every variant `scenario.rounds` times, interleaved round by round, each round in a
 * fresh child process (see child.ts), and reports the medians. One run, one machine state.
 */
export async function compare(name: string, scenario: Scenario): Promise<Figures[]> {
  const kinds = VARIANTS.filter(
    (k) => VARIANT_SETUP[k].code !== 'handWritten' || scenario.handWritten,
  );
  const samples = new Map(
    kinds.map((k) => [k as string, { cpu: [] as number[], rate: [] as number[] }]),
  );
  const child = fileURLToPath(new URL('./child.js', import.meta.url));
  for (let round = 0; round < scenario.rounds; round++) {
    for (const kind of kinds) {
      const output = execFileSync(process.execPath, [child, name, kind], { encoding: 'utf8' });
      const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
        cpuUs: number;
        perSecond: number;
      };
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
    `\n${scenario.name}: ${scenario.messages} messages x ${scenario.rounds} rounds (median), each round in a fresh process after warm-up rounds, variants interleaved, one run`,
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
