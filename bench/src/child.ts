// One measured round of one variant, in a process of its own: `node child.js <scenario>
// <variant>`. Prints one JSON line. A service runs either with or without an SDK, never
// both, so each variant gets a JIT that has only seen its own code paths.
import { measureVariant } from './measure.js';
import { scenarios } from './scenarios.js';

const [name = '', variant = ''] = process.argv.slice(2);
const scenario = await scenarios[name]?.();
if (!scenario) {
  console.error(`bench: no scenario "${name}" (or its broker is unreachable)`);
  process.exit(2);
}
console.log(JSON.stringify(await measureVariant(scenario, variant)));
process.exit(0);
