// The handler's own work, for the "100 µs handler" line: a fixed amount of CPU work per
// message, the same iteration count in every variant (calibrated once by the parent and
// passed to the children in BENCH_HANDLER_ITERATIONS), so only the telemetry around it differs.

const configured = Number(process.env.BENCH_HANDLER_ITERATIONS ?? 0) || 0;
let iterations = configured;
let sink = 0;

function spin(count: number): number {
  let x = sink;
  for (let i = 0; i < count; i++) x = (Math.imul(x, 1103515245) + 12345 + i) | 0;
  return x;
}

/** What every scenario's handler calls once per message (nothing unless configured). */
export function handlerWork(): void {
  if (iterations > 0) sink = spin(iterations) & 0xffff; // stays a small integer (no deopt)
}

/**
 * Switches the configured work off or on. The warm-up runs most of its messages without
 * it: the JIT needs as many messages as without a handler, and the loop itself is
 * compiled at once, so only the last warm-up chunk needs the work.
 */
export function enableHandlerWork(enabled: boolean): void {
  iterations = enabled ? configured : 0;
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
