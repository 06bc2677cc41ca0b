import { parseDemoArgs, USAGE, USAGE_LINE } from './cli.js';
import { type DemoRun, runInProcessDemo } from './in-process.js';
import { renderEndpoints, renderMetrics, renderRequest, renderServiceMap } from './report.js';

const command = parseDemoArgs(process.argv.slice(2));
if (command.kind === 'help') {
  console.log(USAGE);
  process.exit(0);
}
if (command.kind === 'usage-error') {
  console.error(
    `demo: ${command.message}\n${USAGE_LINE}\n(\`npm run demo -- --help\` lists the options and environment variables)`,
  );
  process.exit(2);
}
const { bus, walkthrough, keepRunning, metricsPort, metricsHost } = command;

function print(run: DemoRun, how: string): void {
  console.log(
    `Baton demo: user_service -> ${how} -> notification_service -> ${how} -> audit_service`,
  );
  for (const outcome of run.outcomes) console.log(renderRequest(outcome, run.spans, run.logs));
  console.log(renderMetrics(run.metricPoints));
  console.log(renderServiceMap(run.serviceMetrics));
  if (run.endpoints) console.log(renderEndpoints(run.endpoints));
  const traced = run.outcomes.filter((o) => o.userId !== undefined);
  console.log(
    `\n${traced.length} registrations traced end to end over ${how}; ${run.spans.length} spans, ${run.logs.length} log lines.`,
  );
}

try {
  if (bus === 'memory') {
    print(await runInProcessDemo(), 'the in-process bus');
  } else if (walkthrough) {
    const { runWalkthrough } = await import('./walkthrough/index.js');
    await runWalkthrough(bus);
  } else {
    const { renderKeepRunning, runMultiProcessDemo, serveUntilInterrupted } = await import(
      './multi-process.js'
    );
    const run = await runMultiProcessDemo(bus, {
      keepRunning,
      ...(metricsPort !== undefined && { metricsPort }),
      ...(metricsHost !== undefined && { metricsHost }),
    });
    print(run, bus);
    if (run.demo) {
      console.log(renderKeepRunning(run.demo));
      await serveUntilInterrupted(run.demo);
    }
  }
  process.exit(0);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
