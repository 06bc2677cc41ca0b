import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@baton/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';

// `npm run demo -- --bus redis --keep-running --metrics-port N`, as a user runs it: the
// report, then the three services stay up on N, N+1, N+2 until Ctrl-C (SIGINT to the
// whole process group, as a terminal sends it: the runner and its services alike), which
// stops them cleanly (exit 0, nothing on stderr, the ports closed).
const redisUrl = await brokerOrSkip('redis');
const demoEntry = fileURLToPath(
  new URL('../examples/user-notification/dist/demo.js', import.meta.url),
);

const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

// Three free consecutive ports (a race with other processes is possible, and unlikely).
async function freePorts(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await listens(base)) && (await listens(base + 1)) && (await listens(base + 2))) {
      return base;
    }
  }
  throw new Error('no three free consecutive ports');
}

// An address of this machine other than loopback, if it has one.
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

const status = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 0,
  );

describe.skipIf(!redisUrl)('the demo with --keep-running', () => {
  let child: ChildProcess | undefined;
  // Whatever happened, nothing of this run's process group outlives the test.
  afterEach(() => {
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone: the services stopped
    }
  });

  it.each([
    ['SIGINT to its process group (Ctrl-C)', 'SIGINT', true, []],
    ['SIGTERM to the runner alone (a supervisor)', 'SIGTERM', false, ['--metrics-host', '0.0.0.0']],
  ] as const)(
    'serves /metrics and /health on the given ports until %s, then stops cleanly',
    async (_how, signal, group, hostArgs) => {
      const port = await freePorts();
      const run = spawn(
        process.execPath,
        [
          demoEntry,
          '--bus',
          'redis',
          '--keep-running',
          '--metrics-port',
          String(port),
          ...hostArgs,
        ],
        {
          env: { ...process.env, REDIS_URL: redisUrl as string },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true, // its own process group, as in a terminal
        },
      );
      child = run;
      let stdout = '';
      let stderr = '';
      run.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      run.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
      await waitFor(() => stdout.includes('Ctrl-C stops them'), {
        timeoutMs: 60_000,
        message: 'the keep-running banner',
      });
      // The report came first, then the addresses and a file_sd target list.
      expect(stdout.indexOf('▶ service map')).toBeLessThan(stdout.indexOf('keep running'));
      const targets = JSON.parse(stdout.match(/^ {2}(\[\{"targets".*)$/m)?.[1] ?? '[]');
      expect(targets).toEqual([
        { targets: [`127.0.0.1:${port + 2}`], labels: { job: 'audit_service' } },
        { targets: [`127.0.0.1:${port + 1}`], labels: { job: 'notification_service' } },
        { targets: [`127.0.0.1:${port}`], labels: { job: 'user_service' } },
      ]);
      // Still up well after the report, for a Prometheus to scrape.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const p of [port, port + 1, port + 2]) {
        expect(await status(`http://127.0.0.1:${p}/metrics`), `:${p}/metrics`).toBe(200);
        expect(await status(`http://127.0.0.1:${p}/health`), `:${p}/health`).toBe(200);
        expect(await status(`http://127.0.0.1:${p}/health/ready`), `:${p}/health/ready`).toBe(200);
      }
      // Loopback only, unless --metrics-host says otherwise.
      if (external !== undefined) {
        expect(await status(`http://${external}:${port}/health`)).toBe(
          hostArgs.length > 0 ? 200 : 0,
        );
      }
      // The printed request makes traffic that the metrics count.
      const api = stdout.match(/POST (http:\/\/127\.0\.0\.1:\d+)\/users/)?.[1];
      const created = await fetch(`${api}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
      });
      expect(created.status).toBeLessThan(300);
      await waitFor(
        async () => {
          const text = await (await fetch(`http://127.0.0.1:${port + 2}/metrics`)).text();
          const consumed = text
            .split('\n')
            .filter((l) => l.startsWith('messaging_client_consumed_messages_total{'))
            .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
          return consumed >= 5; // the run's 4 registrations and this one, at audit_service
        },
        { message: "audit_service's count of the new registration" },
      );

      // The runner stops the services itself when they did not get the signal.
      process.kill(group ? -(run.pid as number) : (run.pid as number), signal);
      expect(await exited).toBe(0);
      expect(stdout).toMatch(new RegExp(`${signal}: stopping the services[\\s\\S]*stopped\\.\\n$`));
      expect(stderr).toBe('');
      for (const p of [port, port + 1, port + 2])
        expect(await status(`http://127.0.0.1:${p}/health`)).toBe(0);
    },
    90_000,
  );
});
