// One measured round of one variant, in a process of its own:
// `node child.js <scenario> <variant> <messages> <warmupMessages> [--phases]`.
// Prints one `#bench-result <json>` line. A service runs either with or without an SDK,
// never both, so each variant gets a JIT that has only seen its own code paths. With
// `--phases` it prints `#bench-phase <name>` between phases (for the JIT check, which runs
// it under --trace-opt and counts V8's lines per phase).
import { measureVariant, type VariantName } from './measure.js';
import { scenarios } from './scenarios.js';

const [name = '', variant = '', messages = '', warmup = '', flag] = process.argv.slice(2);
const scenario = await scenarios[name]?.();
if (!scenario) {
  console.error(`bench: no scenario "${name}" (or its broker is unreachable)`);
  process.exit(2);
}
const plan = { messages: Number(messages), warmupMessages: Number(warmup), rounds: 1 };
const onPhase =
  flag === '--phases' ? (phase: string) => console.log(`#bench-phase ${phase}`) : undefined;
const result = await measureVariant(scenario, variant as VariantName, plan, onPhase);
console.log(`#bench-result ${JSON.stringify(result)}`);
process.exit(0);
