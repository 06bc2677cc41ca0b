import { parseArgs } from 'node:util';
import { type DemoRun, runInProcessDemo } from './in-process.js';
import { renderMetrics, renderRequest } from './report.js';

const BUSES = ['memory', 'redis', 'rabbitmq', 'kafka'] as const;
type BusKind = (typeof BUSES)[number];

const { values } = parseArgs({
  options: {
    bus: { type: 'string', default: 'memory' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});
if (values.help) {
  console.log(`usage: npm run demo [-- --bus ${BUSES.join('|')}]`);
  process.exit(0);
}
const bus = values.bus as BusKind;
if (!BUSES.includes(bus)) {
  console.error(`demo: unknown bus "${values.bus}"; use one of ${BUSES.join(', ')}`);
  process.exit(2);
}

function print(run: DemoRun, how: string): void {
  console.log(
    `Baton demo: user_service -> ${how} -> notification_service -> ${how} -> audit_service`,
  );
  for (const outcome of run.outcomes) console.log(renderRequest(outcome, run.spans, run.logs));
  console.log(renderMetrics(run.metricPoints));
  const traced = run.outcomes.filter((o) => o.userId !== undefined);
  console.log(
    `\n${traced.length} registrations traced end to end over ${how}; ${run.spans.length} spans, ${run.logs.length} log lines.`,
  );
}

try {
  if (bus === 'memory') {
    print(await runInProcessDemo(), 'the in-process bus');
  } else {
    const { runMultiProcessDemo } = await import('./multi-process.js');
    print(await runMultiProcessDemo(bus), bus);
  }
  process.exit(0);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
