import { isReachable } from '@baton/testing';

/** A broker the integration tests may use. */
export type BrokerName = 'redis' | 'rabbitmq' | 'kafka';

/** Where a broker was found, or why it was not. */
export type BrokerLookup =
  | { available: true; url: string; source: string }
  | { available: false; reason: string };

const ENV: Record<BrokerName, string> = {
  redis: 'REDIS_URL',
  rabbitmq: 'AMQP_URL',
  kafka: 'KAFKA_BROKERS',
};
const DEFAULT_URL: Partial<Record<BrokerName, string>> = {
  redis: 'redis://127.0.0.1:6379',
  rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
};

/** Brokers listed in BATON_REQUIRE_BROKERS (e.g. `redis,rabbitmq`): missing means failure. */
export function requiredBrokers(): Set<string> {
  return new Set(
    (process.env.BATON_REQUIRE_BROKERS ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  if (!url.includes('://')) {
    const [host = '127.0.0.1', port] = url.split(',')[0]?.split(':') ?? [];
    return { host, port: Number(port) || defaultPort };
  }
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) || defaultPort };
}

const DEFAULT_PORT: Record<BrokerName, number> = { redis: 6379, rabbitmq: 5672, kafka: 9092 };

/**
 * Finds a broker: its env var, else the local default port. (Kafka has no local default
 * here; test/kafka*.test.ts adds Testcontainers when a Docker engine answers.)
 */
export async function findBroker(name: BrokerName): Promise<BrokerLookup> {
  const fromEnv = process.env[ENV[name]];
  const url = fromEnv ?? DEFAULT_URL[name];
  if (!url) return { available: false, reason: `${ENV[name]} is not set` };
  const { host, port } = hostPort(url, DEFAULT_PORT[name]);
  if (await isReachable(`${host}:${port}`, DEFAULT_PORT[name])) {
    return { available: true, url, source: fromEnv ? ENV[name] : 'the local default port' };
  }
  return { available: false, reason: `nothing answers at ${host}:${port}` };
}

/**
 * Resolves a broker for a test file: prints one loud line when it is skipped, and throws
 * when BATON_REQUIRE_BROKERS lists it (so CI cannot go green by skipping).
 */
export async function brokerOrSkip(name: BrokerName): Promise<string | undefined> {
  const found = await findBroker(name);
  if (found.available) return found.url;
  const message = `${name} integration tests SKIPPED: ${found.reason}`;
  if (requiredBrokers().has(name)) {
    throw new Error(`${message}, but BATON_REQUIRE_BROKERS requires ${name}`);
  }
  console.warn(`\n*** ${message} (set ${ENV[name]} to run them) ***\n`);
  return undefined;
}

/** A name unique to this test run, for streams, queues, topics and groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
