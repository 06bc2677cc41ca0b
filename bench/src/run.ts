// `npm run bench [-- options] [scenario...]`: the overhead table of every bus at steady
// state, then the "100 µs handler" line. Other tools through the same entry:
//   npm run bench -- check [scenario...]              the references record what Baton does
//   npm run bench -- cliff [--quick]                  RabbitMQ's property-size cliff
//   npm run bench -- profile <scenario> "<variant>"   perf profile, µs per message
// Options:
//   --quick       a short run for development (fewer, shorter rounds; NOT steady state)
//   --jit         instead of measuring, count V8 compilations per phase (warm-up check)
//   --no-handler  skip the 100 µs handler line;  --handler-only  only that line
//   --handler-all the handler line on every bus (default: in process and Redis)
//   --no-check    skip the check that the hand-written references record what Baton does
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compare, report, reportHandler } from './compare.js';
import { jitCheck } from './jit.js';
import { HANDLER_VARIANTS, hasVariant, type Plan, VARIANTS } from './measure.js';
import { HANDLER_SCENARIOS, MORE_HANDLER_SCENARIOS, scenarios } from './scenarios.js';
import { calibrateHandlerWork } from './work.js';

const TOOLS: Record<string, string> = {
  check: 'check-reference.js',
  cliff: 'rabbitmq-cliff.js',
  profile: 'profile.js',
};
const tool = TOOLS[process.argv[2] ?? ''];
if (tool !== undefined) {
  const script = fileURLToPath(new URL(`./${tool}`, import.meta.url));
  const result = spawnSync(process.execPath, [script, ...process.argv.slice(3)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const wanted = args.filter((a) => !a.startsWith('--'));
const quick = flags.has('--quick');
const HANDLER_US = 100;
const KNOWN_FLAGS = [
  '--quick',
  '--jit',
  '--no-handler',
  '--handler-only',
  '--handler-all',
  '--no-check',
];
const unknown = [
  ...wanted.filter((w) => !(w in scenarios)),
  ...[...flags].filter((f) => !KNOWN_FLAGS.includes(f)),
];
if (unknown.length > 0) {
  console.error(
    `bench: unknown ${unknown.join(', ')}; buses: ${Object.keys(scenarios).join(', ')}; options: ${KNOWN_FLAGS.join(' ')}; tools: ${Object.keys(TOOLS).join(', ')}`,
  );
  process.exit(2);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);

function planFor(plan: Plan, handler = false): Plan {
  // A 100 µs handler multiplies each message's time by 5-20: its rounds are shorter (the
  // work dominates, so they are also steadier) and fewer, to keep the run near 15 minutes.
  const scaled = handler
    ? { ...plan, messages: Math.max(2000, Math.round(plan.messages / 5)), rounds: 3 }
    : plan;
  if (!quick) return scaled;
  return {
    messages: Math.max(1000, Math.round(scaled.messages / 5)),
    warmupMessages: Math.round(scaled.warmupMessages / 5),
    rounds: 3,
  };
}

const selected = Object.keys(scenarios).filter((name) =>
  wanted.length > 0 ? wanted.includes(name) : name !== 'kafka-fake',
);
const started = Date.now();
console.log(
  `Baton overhead, ${new Date().toISOString()}, Node ${process.versions.node}, ${cpus().length} CPUs, load average at start ${load()}${quick ? '\nQUICK MODE: short warm-up and rounds, NOT steady state; use for development only' : ''}`,
);

if (!flags.has('--no-check') && !flags.has('--jit')) {
  try {
    const script = fileURLToPath(new URL('./check-reference.js', import.meta.url));
    console.log(execFileSync(process.execPath, [script, ...selected], { encoding: 'utf8' }).trim());
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    console.log(`${output.trim()}\nWARNING: a hand-written reference is not comparable (above)`);
  }
}

const loaded = new Map<string, NonNullable<Awaited<ReturnType<(typeof scenarios)[string]>>>>();
for (const name of selected) {
  const scenario = await scenarios[name]?.();
  if (scenario) loaded.set(name, scenario);
  else console.log(`\n${name}: skipped (its broker is not reachable)`);
}

if (!flags.has('--handler-only')) {
  for (const [name, scenario] of loaded) {
    const plan = planFor(scenario.plan);
    const variants = VARIANTS.filter((v) => hasVariant(scenario, v));
    if (flags.has('--jit')) {
      console.log(`\n${scenario.name}\n${jitCheck(name, variants, plan)}`);
      continue;
    }
    const summaries = compare(name, variants, plan, {}, (p) => log(`${name}: ${p}`));
    console.log(report(`${scenario.name} (load ${load()})`, plan, summaries));
  }
}

if (!flags.has('--no-handler') && !flags.has('--jit')) {
  const iterations = calibrateHandlerWork(HANDLER_US);
  console.log(
    `\nA handler doing ~${HANDLER_US} µs of CPU work per message (${iterations} loop iterations, the same in every variant), everything sampled; CPU added over bare:`,
  );
  for (const [name, scenario] of loaded) {
    const all = flags.has('--handler-all');
    if (!HANDLER_SCENARIOS.includes(name) && !(all && MORE_HANDLER_SCENARIOS.includes(name))) {
      continue;
    }
    const plan = planFor(scenario.plan, true);
    const variants = HANDLER_VARIANTS.filter((v) => hasVariant(scenario, v));
    const env = { BENCH_HANDLER_ITERATIONS: String(iterations) };
    const summaries = compare(name, variants, plan, env, (p) => log(`${name} + handler: ${p}`));
    const label = scenario.name.includes('FAKE') && name === 'kafka' ? 'kafka (FAKE)' : name;
    console.log(reportHandler(label, summaries));
  }
}
console.log(
  `\nload average at end ${load()}; took ${((Date.now() - started) / 60_000).toFixed(1)} min`,
);
