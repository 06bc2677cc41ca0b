import { compare, report } from './measure.js';
import { scenarios } from './scenarios.js';

const wanted = process.argv.slice(2);
for (const [name, load] of Object.entries(scenarios)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const scenario = await load();
  if (!scenario) {
    console.log(`\n${name}: skipped (its broker is not reachable)`);
    continue;
  }
  console.log(report(scenario, await compare(name, scenario)));
}
