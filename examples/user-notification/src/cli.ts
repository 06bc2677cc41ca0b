import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

/** The buses the demo runs on: `memory` in one process, the others as three processes. */
export const BUSES = ['memory', 'redis', 'rabbitmq', 'kafka'] as const;
export type BusKind = (typeof BUSES)[number];

export const USAGE_LINE = `usage: npm run demo [-- --bus ${BUSES.join('|')} [--walkthrough | --keep-running [--metrics-port N] [--metrics-host ADDR]]]`;

export const USAGE = `${USAGE_LINE}

Runs user_service -> bus -> notification_service -> bus -> audit_service and prints, for
each request, its trace, the log lines that carry its trace_id, then a metrics summary.

options:
  --bus memory     the three services in this process, over the in-process bus (default)
  --bus redis      three processes over Redis Streams
  --bus rabbitmq   three processes over RabbitMQ
  --bus kafka      three processes over Kafka
  --walkthrough    with a broker bus: Prometheus (on PATH) scrapes the services while
                   notification_service turns slow, and the run follows the incident
                   from the firing alert to the exemplar, the trace and its log lines
  --keep-running   with a broker bus: after the report, keep the three services up,
                   serving /metrics, /health and /health/ready (and user_service's
                   POST /users), until Ctrl-C, for your own Prometheus and Grafana; it
                   prints their addresses and a Prometheus file_sd target list
  --metrics-port N with --keep-running: serve user_service's /metrics on port N,
                   notification_service's on N+1, audit_service's on N+2 (default:
                   free ports), so a Prometheus config can name them
  --metrics-host A with --keep-running: listen on address A instead of 127.0.0.1, e.g.
                   0.0.0.0 for a Prometheus in Docker (host.docker.internal); that
                   exposes the endpoints to your network
  --help           print this text

environment:
  REDIS_URL                    Redis for --bus redis (default redis://127.0.0.1:6379)
  AMQP_URL                     RabbitMQ for --bus rabbitmq (default amqp://guest:guest@127.0.0.1:5672)
  KAFKA_BROKERS                comma-separated brokers for --bus kafka (default 127.0.0.1:9092)
  OTEL_EXPORTER_OTLP_ENDPOINT  also export the traces over OTLP/HTTP to a collector,
                               e.g. http://127.0.0.1:4318 (Jaeger, Tempo); if none answers,
                               the demo warns once and goes on without exporting`;

/** What the command line asks for: a bus to run on, the usage text, or a usage error. */
export type DemoCommand =
  | {
      kind: 'run';
      bus: BusKind;
      walkthrough: boolean;
      keepRunning: boolean;
      /** user_service's ops port; notification_service N+1, audit_service N+2. */
      metricsPort?: number;
      /** The address the services' ops servers listen on. */
      metricsHost?: string;
    }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

/** Parses the demo's arguments (those after `npm run demo --`). Never throws. */
export function parseDemoArgs(args: readonly string[]): DemoCommand {
  let values: {
    bus?: string | undefined;
    help?: boolean | undefined;
    walkthrough?: boolean | undefined;
    'keep-running'?: boolean | undefined;
    'metrics-port'?: string | undefined;
    'metrics-host'?: string | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        bus: { type: 'string', default: 'memory' },
        help: { type: 'boolean' },
        walkthrough: { type: 'boolean' },
        'keep-running': { type: 'boolean' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    // node:util's parse errors (unknown option, missing value, stray argument) explain
    // themselves in one sentence; any other error is a bug and is not a usage error.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      return { kind: 'usage-error', message: (error as Error).message.split('\n')[0] ?? '' };
    }
    throw error;
  }
  if (values.help) return { kind: 'help' };
  const bus = BUSES.find((b) => b === values.bus);
  if (bus === undefined) {
    return {
      kind: 'usage-error',
      message: `unknown bus "${values.bus}"; use one of ${BUSES.join(', ')}`,
    };
  }
  const walkthrough = values.walkthrough === true;
  if (walkthrough && bus === 'memory') {
    return {
      kind: 'usage-error',
      message: '--walkthrough needs a broker bus: --bus redis, rabbitmq or kafka',
    };
  }
  const keepRunning = values['keep-running'] === true;
  if (keepRunning && bus === 'memory') {
    return {
      kind: 'usage-error',
      message:
        '--keep-running needs a broker bus (the in-process demo serves no endpoints): --bus redis, rabbitmq or kafka',
    };
  }
  if (keepRunning && walkthrough) {
    return { kind: 'usage-error', message: '--keep-running and --walkthrough do not go together' };
  }
  const port = values['metrics-port'];
  const host = values['metrics-host'];
  for (const [option, value] of [
    ['--metrics-port', port],
    ['--metrics-host', host],
  ] as const) {
    if (value !== undefined && !keepRunning) {
      return { kind: 'usage-error', message: `${option} goes with --keep-running` };
    }
  }
  if (host !== undefined && isIP(host) === 0) {
    return {
      kind: 'usage-error',
      message: `--metrics-host "${host}" is not an IP address (e.g. 127.0.0.1, 0.0.0.0)`,
    };
  }
  const command: DemoCommand = {
    kind: 'run',
    bus,
    walkthrough,
    keepRunning,
    ...(host !== undefined && { metricsHost: host }),
  };
  if (port === undefined) return command;
  const metricsPort = /^\d+$/.test(port) ? Number(port) : Number.NaN;
  if (!(metricsPort >= 1 && metricsPort <= 65533)) {
    return {
      kind: 'usage-error',
      message: `--metrics-port "${port}" is not a port from 1 to 65533 (it uses N, N+1 and N+2)`,
    };
  }
  return { ...command, metricsPort };
}
