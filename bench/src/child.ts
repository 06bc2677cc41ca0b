// One measured round of one variant, in a process of its own:
// `node child.js <scenario> <variant> <messages> <warmupMessages> [--phases | --wait]`.
// Prints one `#bench-result <json>` line. A service runs either with or without an SDK,
// never both, so each variant gets a JIT that has only seen its own code paths.
// `--phases` prints `#bench-phase <name>` between phases (the JIT check counts V8's trace
// lines per phase); `--wait` also waits for a line on stdin after the `measured` and
// `teardown` markers (the profiler attaches `perf` to the measured round only).
import { createInterface } from 'node:readline';
import { measureVariant, type PhaseListener, type VariantName } from './measure.js';
import { scenarios } from './scenarios.js';

const [name = '', variant = '', messages = '', warmup = '', flag] = process.argv.slice(2);
const scenario = await scenarios[name]?.();
if (!scenario) {
  console.error(`bench: no scenario "${name}" (or its broker is unreachable)`);
  process.exit(2);
}

function phaseListener(): PhaseListener | undefined {
  if (flag === '--phases') return (phase) => console.log(`#bench-phase ${phase}`);
  if (flag !== '--wait') return undefined;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return async (phase) => {
    console.log(`#bench-phase ${phase}`);
    if (phase === 'measured' || phase === 'teardown') await lines.next();
  };
}

const plan = { messages: Number(messages), warmupMessages: Number(warmup), rounds: 1 };
const result = await measureVariant(scenario, variant as VariantName, plan, phaseListener());
console.log(`#bench-result ${JSON.stringify(result)}`);
process.exit(0);
