import type { BatonOptions } from '@baton/core';
import { createDiscardingSdk, createHandlerLogger } from './sdk.js';
import { enableHandlerWork, measureHandlerWorkUs, setHandlerLog } from './work.js';

/** A scenario variant: set up once per process, then move `n` messages end to end. */
export interface Variant {
  run(n: number): Promise<void>;
  teardown(): Promise<void>;
}

/** How many messages a child process runs, and how many of its processes are measured. */
export interface Plan {
  /** Messages per measured round, and per warm-up chunk (so the two compare directly). */
  messages: number;
  /** Messages run (in chunks of `messages`) before the measured round, in the same process. */
  warmupMessages: number;
  /** Measured rounds per variant, each in a fresh process, interleaved; medians reported. */
  rounds: number;
}

/** How a bus scenario makes its variants. */
export interface Scenario {
  name: string;
  /** The full run's plan; `--quick` scales it down. */
  plan: Plan;
  bare(): Promise<Variant>;
  /** Baton-wrapped; `options` carries the providers (empty for the no-SDK variant). */
  baton(options: BatonOptions): Promise<Variant>;
  /**
   * The reference: OpenTelemetry propagation written by hand with the same SDK, recording
   * the same spans and attributes as Baton (check-reference.ts compares them).
   */
  handWritten?(options: BatonOptions): Promise<Variant>;
}

/** The variants, in the order they are run and reported, and what each one sets up. */
const VARIANT_SETUP = {
  bare: { sdk: 'none', code: 'bare' },
  'baton, no SDK': { sdk: 'none', code: 'baton' },
  'baton + SDK, traces': { sdk: 'traces', code: 'baton' },
  'baton + SDK, traces+metrics': { sdk: 'traces+metrics', code: 'baton' },
  'hand-written OTel, traces': { sdk: 'traces', code: 'handWritten' },
  // The demo's full telemetry: traces + metrics, Prometheus exemplars, correlated logs.
  'baton, full telemetry': { sdk: 'full', code: 'baton' },
} as const;
export type VariantName = keyof typeof VARIANT_SETUP;
/** The variants of the per-bus tables. */
export const VARIANTS: VariantName[] = [
  'bare',
  'baton, no SDK',
  'baton + SDK, traces',
  'baton + SDK, traces+metrics',
  'hand-written OTel, traces',
];
/** The variants of the "100 µs handler" line. */
export const HANDLER_VARIANTS: VariantName[] = [
  'bare',
  'baton + SDK, traces+metrics',
  'baton, full telemetry',
  'hand-written OTel, traces',
];

export const hasVariant = (scenario: Scenario, name: VariantName) =>
  VARIANT_SETUP[name].code !== 'handWritten' || scenario.handWritten !== undefined;

/** One round's figures, per message. */
export interface RoundFigures {
  /** Process CPU (every thread: main, GC helpers, JIT compiler, libuv pool), µs. */
  cpuUs: number;
  /** CPU of threads other than the main one (concurrent GC, background compilation), µs. */
  offMainUs: number;
  perSecond: number;
}

/** What one child process reports. */
export interface ChildResult {
  /** CPU µs per message of each warm-up chunk, in order (the first one is the cold start). */
  warmupCpuUs: number[];
  measured: RoundFigures;
  /**
   * CPU µs per message of the measured round's two halves, measured back to back: equal
   * when the process is at steady state (a JIT still compiling makes the first higher).
   */
  halvesCpuUs: [number, number];
  /** CPU µs of the handler's own work per call, measured alone in this process (or 0). */
  handlerWorkUs: number;
}

// process.threadCpuUsage (Node 23.9+) reads the calling (main) thread's CPU only.
const mainThreadCpu = (): number => {
  const read = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  if (!read) return Number.NaN;
  const used = read.call(process);
  return used.user + used.system;
};

async function measureOnce(variant: Variant, n: number): Promise<RoundFigures> {
  const cpu = process.cpuUsage();
  const main = mainThreadCpu();
  const start = process.hrtime.bigint();
  await variant.run(n);
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  const total = used.user + used.system;
  return {
    cpuUs: total / n,
    offMainUs: (total - (mainThreadCpu() - main)) / n,
    perSecond: n / (wallNs / 1e9),
  };
}

// Two halves of (nearly) equal size: per-message figures average; rates add up by time.
function combine(a: RoundFigures, b: RoundFigures): RoundFigures {
  return {
    cpuUs: (a.cpuUs + b.cpuUs) / 2,
    offMainUs: (a.offMainUs + b.offMainUs) / 2,
    perSecond: 2 / (1 / a.perSecond + 1 / b.perSecond),
  };
}

/**
 * Called between phases: the JIT check prints markers to count V8's trace lines by phase;
 * the profiler also waits (a returned promise) until `perf` is attached or detached.
 */
export type PhaseListener = (phase: string) => void | Promise<void>;

/**
 * Measures one variant in this process: sets it up, runs `plan.warmupMessages` in chunks
 * of `plan.messages` (the first chunk's CPU is the cold start), then one measured round of
 * `plan.messages` in two halves (to check it is steady), and tears it down. With handler
 * work configured, the warm-up chunks run without it except the last.
 */
export async function measureVariant(
  scenario: Scenario,
  name: VariantName,
  plan: Plan,
  onPhase: PhaseListener = () => {},
): Promise<ChildResult> {
  const setup = VARIANT_SETUP[name];
  if (setup === undefined) throw new Error(`bench: unknown variant "${name}"`);
  const sdk = setup.sdk === 'none' ? undefined : createDiscardingSdk(setup.sdk);
  const options: BatonOptions = sdk?.options ?? {};
  const logger = createHandlerLogger(setup.sdk === 'full');
  setHandlerLog((n) => logger.info({ n }, 'handled'));
  let variant: Variant;
  if (setup.code === 'bare') variant = await scenario.bare();
  else if (setup.code === 'handWritten' && scenario.handWritten) {
    variant = await scenario.handWritten(options);
  } else variant = await scenario.baton(options);
  const warmupCpuUs: number[] = [];
  const chunks = Math.ceil(plan.warmupMessages / plan.messages);
  for (let i = 0; i < chunks; i++) {
    await onPhase(`warm-up ${i + 1}`);
    enableHandlerWork(i === chunks - 1);
    warmupCpuUs.push((await measureOnce(variant, plan.messages)).cpuUs);
  }
  enableHandlerWork(true);
  await onPhase('measured');
  const half = Math.floor(plan.messages / 2);
  const first = await measureOnce(variant, half);
  await onPhase('measured, 2nd half');
  const second = await measureOnce(variant, plan.messages - half);
  const handlerWorkUs = measureHandlerWorkUs();
  await onPhase('teardown');
  await variant.teardown();
  await sdk?.shutdown();
  return {
    warmupCpuUs,
    measured: combine(first, second),
    halvesCpuUs: [first.cpuUs, second.cpuUs],
    handlerWorkUs,
  };
}
