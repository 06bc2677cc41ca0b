import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type LogLine, type MetricPoint, type SpanLike, waitFor } from '@baton/testing';
import type { BrokerBusKind } from './buses/index.js';
import { probeEndpoints } from './endpoints.js';
import type { DemoRun } from './in-process.js';
import { cannotExport, once } from './otlp-export.js';
import { startOtlpReceiver } from './otlp-receiver.js';
import type { RequestOutcome } from './report.js';
import { type DemoRequest, demoRequests, sendRequest } from './requests.js';

/** The demo's services, in the order they start (consumers first). */
export const SERVICES = ['audit_service', 'notification_service', 'user_service'] as const;
export type ServiceName = (typeof SERVICES)[number];
// From dist/ and from src/ (tests) alike: the services always run as built JavaScript.
const serviceMain = fileURLToPath(new URL('../dist/service-main.js', import.meta.url));

/** Options of {@link startMultiProcessDemo}. */
export interface MultiProcessDemoOptions {
  /** More environment for the services, e.g. `REDIS_URL` of a test's own server. */
  env?: Record<string, string>;
  /** Let notification_service's SMTP be slowed through `POST /spike` (the walkthrough). */
  spike?: boolean;
  /** Each service's readiness bound on a consumer's backlog. @defaultValue 1000 */
  maxLag?: number;
  /**
   * Fixed ops ports (`/metrics`, `/health`): user_service's; notification_service gets the
   * next, audit_service the one after. @defaultValue free ports
   */
  metricsPort?: number;
  /** The address the ops servers listen on. @defaultValue '127.0.0.1' */
  metricsHost?: string;
}

/** The ops port of each service from a first port: user_service's, then +1, +2. */
export function opsPortOf(service: ServiceName, metricsPort: number): number {
  const order: readonly ServiceName[] = ['user_service', 'notification_service', 'audit_service'];
  return metricsPort + order.indexOf(service);
}

/** The demo's three processes, running, and what the runner collects from them. */
export interface RunningDemo {
  readonly kind: BrokerBusKind;
  /** Unique to this run: names streams, queues, exchanges and broker connections. */
  readonly namespace: string;
  /** user_service's API: `POST <apiUrl>/users`. */
  readonly apiUrl: string;
  /** Each service's `/metrics`, `/health` and `/health/ready` server. */
  readonly opsUrls: Readonly<Record<ServiceName, string>>;
  /** Their log lines as they come (JSON lines; stderr lines as `{ name, msg }`). */
  readonly logs: readonly LogLine[];
  spans(): SpanLike[];
  serviceMetrics(): Array<{ service: string; points: MetricPoint[] }>;
  /** Sends one request; for a registration, waits until audit_service has recorded it. */
  request(request: DemoRequest): Promise<RequestOutcome>;
  /** Stops the services (SIGTERM: they flush their telemetry) and the receiver. */
  stop(): Promise<void>;
}

/**
 * Starts user_service, notification_service and audit_service as three processes over a
 * real broker. They export spans and metrics over OTLP to a receiver in this process (and
 * it forwards traces to OTEL_EXPORTER_OTLP_ENDPOINT when set), log JSON to stdout, and
 * each serves /metrics, /health and /health/ready on a free loopback port.
 */
export async function startMultiProcessDemo(
  kind: BrokerBusKind,
  options: MultiProcessDemoOptions = {},
): Promise<RunningDemo> {
  const forwardTo = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const warn = once((message: string) => console.warn(message));
  const receiver = await startOtlpReceiver(forwardTo, (reason) =>
    warn(cannotExport(forwardTo ?? '', reason)),
  );
  const namespace = `baton-demo-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const logs: LogLine[] = [];
  const children = new Map<string, ChildProcess>();
  const exited = new Map<string, number | null>();

  const start = (service: string) => {
    const child = spawn(process.execPath, [serviceMain, service, kind], {
      env: {
        ...process.env,
        ...options.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        BATON_DEMO_NAMESPACE: namespace,
        BATON_DEMO_MAX_LAG: String(options.maxLag ?? 1000),
        ...(options.metricsHost !== undefined && { BATON_DEMO_OPS_HOST: options.metricsHost }),
        ...(options.metricsPort !== undefined && {
          BATON_DEMO_OPS_PORT: String(opsPortOf(service as ServiceName, options.metricsPort)),
        }),
        ...(options.spike && { BATON_DEMO_SPIKE: '1' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(service, child);
    child.once('exit', (code) => exited.set(service, code));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (text) => {
        try {
          logs.push(JSON.parse(text) as LogLine);
        } catch {
          logs.push({ name: service, msg: text });
        }
      });
    }
  };
  const ready = async (service: string): Promise<LogLine> => {
    const state = await waitFor(
      () =>
        exited.has(service) ? 'exited' : logs.find((l) => l.name === service && l.msg === 'ready'),
      { timeoutMs: 20_000, message: `${service} to start on ${kind}` },
    );
    if (state === 'exited') {
      const last = logs.filter((l) => l.name === service).at(-1);
      throw new Error(`${service} exited: ${String(last?.msg ?? `code ${exited.get(service)}`)}`);
    }
    return state;
  };
  const stop = async () => {
    for (const [service, child] of children) {
      if (!exited.has(service)) child.kill('SIGTERM');
    }
    await waitFor(() => exited.size === children.size, {
      timeoutMs: 15_000,
      message: 'the services to stop',
    }).catch(() => {
      for (const child of children.values()) child.kill('SIGKILL');
    });
    await receiver.close();
  };

  const opsUrls = {} as Record<ServiceName, string>;
  try {
    for (const service of SERVICES) {
      start(service);
      opsUrls[service] = `http://127.0.0.1:${String((await ready(service)).ops_port)}`;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const listening = logs.find((l) => l.name === 'user_service' && typeof l.port === 'number');
  const apiUrl = `http://127.0.0.1:${String(listening?.port)}`;
  return {
    kind,
    namespace,
    apiUrl,
    opsUrls,
    logs,
    spans: () => receiver.spans(),
    serviceMetrics: () => receiver.serviceMetrics(),
    async request(request) {
      const outcome = await sendRequest(apiUrl, request);
      if (outcome.userId !== undefined) {
        await waitFor(
          () => logs.some((l) => l.name === 'audit_service' && l.user_id === outcome.userId),
          { timeoutMs: 20_000, message: `the audit record of ${outcome.userId}` },
        );
      }
      return outcome;
    },
    stop,
  };
}

/**
 * The demo's requests through the three processes: what `npm run demo -- --bus <kind>`
 * prints, and each service's endpoints as they answered after the requests. The services
 * are stopped, unless `keepRunning`: then the caller gets them, running, to stop.
 */
export async function runMultiProcessDemo(
  kind: BrokerBusKind,
  options: MultiProcessDemoOptions & { keepRunning?: boolean } = {},
): Promise<DemoRun & { demo?: RunningDemo }> {
  const { keepRunning, ...startOptions } = options;
  const demo = await startMultiProcessDemo(kind, startOptions);
  const outcomes: RequestOutcome[] = [];
  let endpoints: DemoRun['endpoints'];
  try {
    for (const request of demoRequests()) outcomes.push(await demo.request(request));
    endpoints = await probeEndpoints(demo);
  } catch (error) {
    await demo.stop();
    throw error;
  }
  if (!keepRunning) await demo.stop();
  const serviceMetrics = demo.serviceMetrics();
  return {
    outcomes,
    spans: demo.spans(),
    logs: [...demo.logs],
    metricPoints: serviceMetrics.flatMap((s) => s.points),
    serviceMetrics,
    endpoints,
    ...(keepRunning && { demo }),
  };
}

/**
 * What `--keep-running` prints once the report is out: each service's endpoints, a
 * Prometheus `file_sd` target list (observability/prometheus/targets/*.json), a request
 * to make traffic, and how to stop.
 */
export function renderKeepRunning(demo: RunningDemo): string {
  const targets = SERVICES.map((job) => ({
    targets: [new URL(demo.opsUrls[job]).host],
    labels: { job },
  }));
  return [
    '',
    `▶ the services keep running on ${demo.kind} (Ctrl-C stops them)`,
    ...SERVICES.map(
      (service) =>
        `  ${service.padEnd(21)} ${demo.opsUrls[service]}/metrics  /health  /health/ready`,
    ),
    `  user_service API      POST ${demo.apiUrl}/users`,
    '',
    '  Prometheus file_sd targets (e.g. observability/prometheus/targets/services.json; from',
    '  the Docker stack, write host.docker.internal for 127.0.0.1):',
    `  ${JSON.stringify(targets)}`,
    '',
    '  traffic:',
    `  curl -s -X POST ${demo.apiUrl}/users -H 'content-type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'`,
  ].join('\n');
}

/**
 * Waits for SIGINT or SIGTERM (Ctrl-C), then stops the services (they flush their
 * telemetry) and the receiver. A second Ctrl-C while they stop exits at once (130).
 */
export async function serveUntilInterrupted(
  demo: RunningDemo,
  say: (line: string) => void = (line) => console.log(line),
): Promise<NodeJS.Signals> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (received: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(received);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  say(`\n${signal}: stopping the services (Ctrl-C again to quit at once)`);
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  try {
    await demo.stop();
  } finally {
    process.off('SIGINT', force);
  }
  say('stopped.');
  return signal;
}
