import { parseArgs } from 'node:util';

/** The buses the demo runs on: `memory` in one process, the others as three processes. */
export const BUSES = ['memory', 'redis', 'rabbitmq', 'kafka'] as const;
export type BusKind = (typeof BUSES)[number];

export const USAGE_LINE = `usage: npm run demo [-- --bus ${BUSES.join('|')} [--walkthrough]]`;

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
  | { kind: 'run'; bus: BusKind; walkthrough: boolean }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

/** Parses the demo's arguments (those after `npm run demo --`). Never throws. */
export function parseDemoArgs(args: readonly string[]): DemoCommand {
  let values: {
    bus?: string | undefined;
    help?: boolean | undefined;
    walkthrough?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        bus: { type: 'string', default: 'memory' },
        help: { type: 'boolean' },
        walkthrough: { type: 'boolean' },
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
  return { kind: 'run', bus, walkthrough };
}
