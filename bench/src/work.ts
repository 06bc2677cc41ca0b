// The handler's own work, for the "100 µs handler" line: a fixed amount of CPU work per
// message, the same iteration count in every variant (calibrated once by the parent and
// passed to the children in BENCH_HANDLER_ITERATIONS), so only the telemetry around it differs.

const configured = Number(process.env.BENCH_HANDLER_ITERATIONS ?? 0) || 0;
let iterations = configured;
let sink = 0;

// Only shifts and xors (xorshift32): every value stays an int32, so V8 never meets an
// overflow and never falls back to slower float arithmetic halfway through a run (an
// earlier multiply-add loop did, in some variants only: 3.8x the time per call).
function spin(count: number): number {
  let x = sink | 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
  }
  return x;
}

let logLine: ((n: number) => void) | undefined;
let logged = 0;

/**
 * With handler work configured, every handler also logs one line (the logger of the
 * variant: plain pino, or `@baton/pino`'s with full telemetry), in every chunk, warm-up
 * included: it is part of what a handler does, not of the loop timed alone.
 */
export function setHandlerLog(log: ((n: number) => void) | undefined): void {
  logLine = configured > 0 ? log : undefined;
}

/** What every scenario's handler calls once per message (nothing unless configured). */
export function handlerWork(): void {
  if (iterations > 0) sink = spin(iterations) & 0xffff; // stays a small integer (no deopt)
  if (logLine !== undefined) logLine(logged++);
}

/**
 * Switches the configured work off or on. The warm-up runs most of its messages without
 * it: the JIT needs as many messages as without a handler, and the loop itself is
 * compiled at once, so only the last warm-up chunk needs the work.
 */
export function enableHandlerWork(enabled: boolean): void {
  iterations = enabled ? configured : 0;
}

/**
 * CPU µs of one call of the configured work, measured on its own in this process (0 when
 * none is configured). The same loop runs at different speeds in different processes
 * (code placement, caches, the neighbours on a shared machine), by more than what the
 * telemetry adds; subtracting each process's own figure removes that from the comparison.
 */
export function measureHandlerWorkUs(calls = 2000): number {
  if (configured === 0) return 0;
  const previous = iterations;
  iterations = configured;
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) handlerWork();
  const used = process.cpuUsage(start);
  iterations = previous;
  return (used.user + used.system) / calls;
}

/** Iterations of the work loop that take about `targetUs` µs of CPU on this machine. */
export function calibrateHandlerWork(targetUs: number): number {
  let count = 100_000;
  spin(count); // compile the loop before timing it
  for (let attempt = 0; attempt < 5; attempt++) {
    const repeats = 200;
    const start = process.cpuUsage();
    for (let r = 0; r < repeats; r++) sink = spin(count);
    const used = process.cpuUsage(start);
    const perCallUs = (used.user + used.system) / repeats;
    count = Math.max(1000, Math.round((count * targetUs) / perCallUs));
  }
  return count;
}
