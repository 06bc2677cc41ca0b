import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildResult, Plan, VariantName } from './measure.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** Runs one child (one variant, one measured round); returns its raw stdout too. */
export function runChild(
  scenario: string,
  variant: VariantName,
  plan: Plan,
  options: { env?: NodeJS.ProcessEnv; command?: string[]; phases?: boolean } = {},
): { result: ChildResult; stdout: string } {
  const [command = process.execPath, ...prefix] = options.command ?? [process.execPath];
  const args = [
    ...prefix,
    CHILD,
    scenario,
    variant,
    String(plan.messages),
    String(plan.warmupMessages),
    ...(options.phases ? ['--phases'] : []),
  ];
  const stdout = execFileSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 512 * 1024 * 1024,
    timeout: CHILD_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = stdout.split('\n').find((l) => l.startsWith('#bench-result '));
  if (!line) throw new Error(`bench: ${scenario} / ${variant} printed no result`);
  return { result: JSON.parse(line.slice('#bench-result '.length)) as ChildResult, stdout };
}

/** A variant's medians over its rounds. */
export interface Summary {
  variant: VariantName;
  /** Measured round: process CPU µs per message, all threads. */
  cpuUs: number;
  /** Of which off the main thread (concurrent GC, background JIT compilation). */
  offMainUs: number;
  perSecond: number;
  /** Second half of the measured round against the first, %: near 0 at steady state. */
  driftPercent: number;
  /** The first chunk's CPU µs per message in a fresh process: the cold start. */
  coldUs: number;
  /** `cpuUs` without the handler's own work, as measured alone in each process. */
  besidesHandlerUs: number;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Runs every variant `plan.rounds` times, interleaved round by round (bare, baton, ...,
 * bare, baton, ...), each round in a fresh child process, and returns the medians.
 */
export function compare(
  scenario: string,
  variants: VariantName[],
  plan: Plan,
  env: NodeJS.ProcessEnv = {},
  progress: (text: string) => void = () => {},
): Summary[] {
  const results = new Map(variants.map((v) => [v, [] as ChildResult[]]));
  for (let round = 0; round < plan.rounds; round++) {
    progress(`round ${round + 1}/${plan.rounds}`);
    for (const variant of variants) {
      results.get(variant)?.push(runChild(scenario, variant, plan, { env }).result);
    }
  }
  return variants.map((variant) => {
    const rounds = results.get(variant) ?? [];
    return {
      variant,
      cpuUs: median(rounds.map((r) => r.measured.cpuUs)),
      offMainUs: median(rounds.map((r) => r.measured.offMainUs)),
      perSecond: median(rounds.map((r) => r.measured.perSecond)),
      driftPercent: median(rounds.map((r) => (r.halvesCpuUs[1] / r.halvesCpuUs[0] - 1) * 100)),
      coldUs: median(rounds.map((r) => r.warmupCpuUs[0] ?? Number.NaN)),
      besidesHandlerUs: median(rounds.map((r) => r.measured.cpuUs - r.handlerWorkUs)),
    };
  });
}

const num = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const signed = (value: number) => (value >= 0 ? `+${num(value)}` : num(value));

/**
 * The table: CPU µs per message (and added over bare), throughput (and against bare), the
 * part of the CPU off the main thread, the steady-state check (the measured round's second
 * half against its first; `!` past 10%), and the cold start.
 */
export function report(title: string, plan: Plan, summaries: Summary[]): string {
  const bare = summaries.find((s) => s.variant === 'bare');
  const lines = [
    `\n${title}`,
    `  ${plan.rounds} rounds x ${plan.messages} messages, each round in a fresh process after ${plan.warmupMessages} warm-up messages; variants interleaved; medians`,
    `  ${'variant'.padEnd(28)} ${'CPU µs/msg'.padStart(10)} ${'added'.padStart(7)} ${'msgs/s'.padStart(8)} ${'vs bare'.padStart(7)} ${'off-main'.padStart(8)} ${'drift'.padStart(6)} ${'cold added'.padStart(10)}`,
  ];
  for (const s of summaries) {
    const drift = `${s.driftPercent >= 0 ? '+' : ''}${num(s.driftPercent, 0)}%${Math.abs(s.driftPercent) > 10 ? '!' : ' '}`;
    const added = bare && s !== bare ? signed(s.cpuUs - bare.cpuUs) : '-';
    const ratio = bare ? `${num(s.perSecond / bare.perSecond)}x` : '-';
    const cold = bare && s !== bare ? signed(s.coldUs - bare.coldUs) : num(s.coldUs);
    lines.push(
      `  ${s.variant.padEnd(28)} ${num(s.cpuUs).padStart(10)} ${added.padStart(7)} ${Math.round(s.perSecond).toString().padStart(8)} ${ratio.padStart(7)} ${num(s.offMainUs).padStart(8)} ${drift.padStart(6)} ${cold.padStart(10)}`,
    );
  }
  lines.push(
    '  (µs: CPU per message, all threads; off-main: of which GC helpers, background JIT; drift: 2nd half of the measured round vs 1st, "!" past 10%; cold: the first chunk of a fresh process)',
  );
  return lines.join('\n');
}

/**
 * The "100 µs handler" line: CPU added over bare, as µs and as % of bare's CPU per
 * message, and throughput against bare. The added µs compare everything but the handler's
 * own work, which each process measures alone (so its speed varying from one process to
 * the next does not count as overhead); a slower handler inside the telemetry still does.
 */
export function reportHandler(title: string, summaries: Summary[]): string {
  const bare = summaries.find((s) => s.variant === 'bare');
  if (!bare) return '';
  const cells = summaries
    .filter((s) => s !== bare)
    .map((s) => {
      const added = s.besidesHandlerUs - bare.besidesHandlerUs;
      return `${s.variant}: +${num((added / bare.cpuUs) * 100, 1)}% CPU (${signed(added)} µs), ${num(s.perSecond / bare.perSecond)}x`;
    });
  return `  ${title.padEnd(14)} bare ${num(bare.cpuUs, 1)} µs/msg (handler alone ${num(bare.cpuUs - bare.besidesHandlerUs, 1)}); ${cells.join('; ')}`;
}
