// Debian's `prometheus` (2.42) on a free loopback port, for the walkthrough and the tests
// (test/prometheus/server.ts adds the skip-or-fail switch of BATON_REQUIRE_BROKERS).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from '@baton/testing';
import { stringify } from 'yaml';
import { PrometheusApi, type TargetState } from './api.js';

/** A `/metrics` endpoint for Prometheus to scrape. */
export interface ScrapeTarget {
  /** The `job` label: the service name, as Baton's rules expect. */
  job: string;
  /** `host:port`. */
  address: string;
  /** @defaultValue '/metrics' */
  metricsPath?: string;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  targets: readonly ScrapeTarget[];
  /** Absolute paths of rule files to load. */
  ruleFiles?: readonly string[];
  /** @defaultValue 1 */
  scrapeIntervalSeconds?: number;
  /** @defaultValue 1 */
  evaluationIntervalSeconds?: number;
  /** @defaultValue 30_000 */
  readyTimeoutMs?: number;
}

/** A Prometheus started by {@link startPrometheus}. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  url: string;
  api: PrometheusApi;
  /** What Prometheus printed so far (the last 64 KiB), for failure messages. */
  output(): string;
  /** Stops the process and removes its storage and config. Idempotent. */
  stop(): Promise<void>;
}

/** The absolute path of an executable on PATH, if there is one. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function configYaml(options: PrometheusOptions): string {
  const scrape = `${options.scrapeIntervalSeconds ?? 1}s`;
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const target of options.targets) {
    jobs.set(target.job, [...(jobs.get(target.job) ?? []), target]);
  }
  return stringify({
    global: {
      scrape_interval: scrape,
      scrape_timeout: scrape,
      evaluation_interval: `${options.evaluationIntervalSeconds ?? 1}s`,
    },
    rule_files: [...(options.ruleFiles ?? [])],
    // One scrape config per job and metrics path (a scrape config has a single path).
    scrape_configs: [...jobs].flatMap(([job, targets]) =>
      [...new Set(targets.map((t) => t.metricsPath ?? '/metrics'))].map((path, index) => ({
        job_name: index === 0 ? job : `${job}-${index}`,
        metrics_path: path,
        static_configs: [
          {
            targets: targets
              .filter((t) => (t.metricsPath ?? '/metrics') === path)
              .map((t) => t.address),
            labels: { job },
          },
        ],
      })),
    ),
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(binary: string, dir: string, options: PrometheusOptions) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const ready = await waitFor(
    async () => {
      if (child.exitCode !== null) return 'exited';
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      return response.ok ? 'ready' : undefined;
    },
    {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      intervalMs: 50,
      message: `prometheus at ${url}`,
    },
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; it printed:\n${output}`);
  });
  return { child, url, ready, output: () => output };
}

/**
 * Starts Debian's `prometheus` on a free loopback port with exemplar storage, a temporary
 * storage directory and a generated config (the given targets and rule files), and waits
 * until it is ready. Stop it with `stop()`.
 */
export async function startPrometheus(
  binary: string,
  options: PrometheusOptions,
): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), configYaml(options));
  // The free port can be taken between our probe and Prometheus's bind: try again then.
  for (let attempt = 1; ; attempt++) {
    const run = await launch(binary, dir, options).catch(async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
    if (run.ready === 'ready') {
      let stopping: Promise<void> | undefined;
      return {
        url: run.url,
        api: new PrometheusApi(run.url),
        output: run.output,
        stop() {
          stopping ??= (async () => {
            run.child.kill('SIGTERM');
            const killTimer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
            await exited(run.child);
            clearTimeout(killTimer);
            await rm(dir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }
    if (attempt === 3 || !run.output().includes('address already in use')) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`prometheus exited before it was ready; it printed:\n${run.output()}`);
    }
  }
}

/** Waits until Prometheus has `count` active targets, all up, and returns them. */
export function targetsUp(prometheus: RunningPrometheus, count: number): Promise<TargetState[]> {
  return waitFor(
    async () => {
      const active = await prometheus.api.targets();
      return active.length === count && active.every((t) => t.health === 'up') ? active : undefined;
    },
    { timeoutMs: 20_000, message: `${count} targets up` },
  );
}
