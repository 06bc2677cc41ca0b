import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What `npm run demo -- <args>` runs: the built entry point (`npm test` builds it first).
const demo = fileURLToPath(new URL('../dist/demo.js', import.meta.url));
const runDemo = (...args: string[]) =>
  spawnSync(process.execPath, [demo, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('the demo command line', () => {
  it('lists the buses and the environment variables it reads under --help', () => {
    const { status, stdout } = runDemo('--help');
    expect(status).toBe(0);
    for (const word of [
      '--bus',
      'memory',
      'redis',
      'rabbitmq',
      'kafka',
      '--walkthrough',
      '--keep-running',
      '--metrics-port',
      '--metrics-host',
      'Ctrl-C',
    ]) {
      expect(stdout).toContain(word);
    }
    for (const variable of [
      'REDIS_URL',
      'AMQP_URL',
      'KAFKA_BROKERS',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]) {
      expect(stdout).toMatch(new RegExp(`^ +${variable} +\\S`, 'm'));
    }
  });

  it.each([
    [['--bogus'], /^demo: Unknown option '--bogus'$/m],
    [['--bus'], /^demo: Option '--bus <value>' argument missing$/m],
    [['--bus', 'nats'], /^demo: unknown bus "nats"; use one of memory, redis, rabbitmq, kafka$/m],
    [['redis'], /^demo: Unexpected argument 'redis'/m],
    [
      ['--walkthrough'],
      /^demo: --walkthrough needs a broker bus: --bus redis, rabbitmq or kafka$/m,
    ],
    [['--keep-running'], /^demo: --keep-running needs a broker bus \(the in-process demo/m],
    [
      ['--bus', 'redis', '--keep-running', '--walkthrough'],
      /^demo: --keep-running and --walkthrough do not go together$/m,
    ],
    [
      ['--bus', 'redis', '--metrics-port', '9464'],
      /^demo: --metrics-port goes with --keep-running$/m,
    ],
    [
      ['--bus', 'redis', '--metrics-host', '0.0.0.0'],
      /^demo: --metrics-host goes with --keep-running$/m,
    ],
    [
      ['--bus', 'redis', '--keep-running', '--metrics-host', 'example.com'],
      /^demo: --metrics-host "example.com" is not an IP address/m,
    ],
    ...['0', '65534', '94x', '70000', '1e3', ''].map((port) => [
      ['--bus', 'redis', '--keep-running', '--metrics-port', port],
      new RegExp(`^demo: --metrics-port "${port}" is not a port from 1 to 65533`, 'm'),
    ]),
  ] as Array<[string[], RegExp]>)(
    'answers %j with a usage error and exit code 2, without a stack trace',
    (args, message) => {
      const { status, stdout, stderr } = runDemo(...args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(
        /^usage: npm run demo \[-- --bus memory\|redis\|rabbitmq\|kafka \[--walkthrough \| --keep-running \[--metrics-port N\] \[--metrics-host ADDR\]\]\]$/m,
      );
      expect(stderr).not.toMatch(/^\s+at /m);
    },
  );

  it('prints the traces, then the metrics summary, then the service map, with no infrastructure', () => {
    const { status, stdout } = runDemo();
    expect(status).toBe(0);
    const trace = stdout.indexOf('log lines with this trace_id');
    const metrics = stdout.indexOf("▶ metrics (from the services' OpenTelemetry meters)");
    const map = stdout.indexOf('▶ service map');
    expect(trace).toBeGreaterThan(0);
    expect(metrics).toBeGreaterThan(trace);
    expect(map).toBeGreaterThan(metrics);
    const rows = stdout
      .slice(map)
      .split('\n')
      .filter((line) => line.includes('─▶'));
    expect(rows.map((row) => row.trim().split(/\s+/).slice(0, 6).join(' '))).toEqual([
      'notification_service ─▶ notification.sent (in_process) ─▶ audit_service',
      'user_service ─▶ user.registered (in_process) ─▶ notification_service',
    ]);
  });
});
