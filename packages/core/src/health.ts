/** The health of one consumer (one destination of one consumer client), as adapters report it. */
export interface ConsumerHealth {
  /** `messaging.system`. */
  readonly system: string;
  /** The destination consumed (topic, queue, stream). */
  readonly destination: string;
  readonly consumerGroup?: string;
  /** Started and not stopped, cancelled or crashed. */
  readonly running: boolean;
  /** The client's connection to the broker is up, as far as the client knows. */
  readonly connected: boolean;
  /** When the consumer last read from the broker successfully, in ms since the epoch. */
  readonly lastPollAtMs?: number;
  /** The latest backlog reading (`baton.consumer.lag`, summed over partitions), if one runs. */
  readonly lag?: number;
  /** The last error the consumer reported, for people reading a health endpoint. */
  readonly lastError?: string;
}

/**
 * Keeps one consumer's health up to date; adapters update it from their client's events
 * and expose it through their `healthOf`. Cheap: plain field writes.
 */
export class HealthTracker {
  running = false;
  connected = false;
  lastPollAtMs: number | undefined;
  lastError: string | undefined;
  lag: number | undefined;

  constructor(
    readonly system: string,
    readonly destination: string,
    readonly consumerGroup?: string,
  ) {}

  /** A read from the broker succeeded (a poll returned, possibly empty, or a delivery came). */
  polled(now = Date.now()): void {
    this.lastPollAtMs = now;
    this.connected = true;
  }

  /** The consumer reported an error (kept as text: never message data). */
  failed(error: unknown): void {
    this.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }

  snapshot(): ConsumerHealth {
    return {
      system: this.system,
      destination: this.destination,
      ...(this.consumerGroup !== undefined && { consumerGroup: this.consumerGroup }),
      running: this.running,
      connected: this.connected,
      ...(this.lastPollAtMs !== undefined && { lastPollAtMs: this.lastPollAtMs }),
      ...(this.lag !== undefined && { lag: this.lag }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }
}

// What each adapter's `healthOf` reads, by the object it returned to the application (a
// consumer, a traced view, a bus). Weak: a dropped object is not kept alive by its health.
const healthReaders = new WeakMap<object, () => ConsumerHealth[]>();

/** Makes `read` the health of `target`, for the adapter's `healthOf`. For adapters. */
export function registerHealth(target: object, read: () => ConsumerHealth[]): void {
  healthReaders.set(target, read);
}

/** The health registered for `target`; empty for anything else (any value). For adapters. */
export function readHealth(target: unknown): ConsumerHealth[] {
  if (target === null || typeof target !== 'object') return [];
  return healthReaders.get(target)?.() ?? [];
}

/** Options for {@link checkReadiness}. */
export interface ReadinessOptions {
  /** Not ready while a consumer's backlog exceeds this. @defaultValue no bound */
  maxLag?: number;
  /**
   * Not ready when a running consumer has not polled for this long (a consumer stuck
   * without reads). Leave unset for consumers that only hear from the broker on delivery
   * (AMQP push consumers). @defaultValue no bound
   */
  maxPollAgeMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** The verdict of {@link checkReadiness}: what a `/health/ready` endpoint returns. */
export interface Readiness {
  ready: boolean;
  /** Why not, one line per problem (empty when ready). */
  reasons: string[];
  consumers: ConsumerHealth[];
}

/**
 * Readiness of a service from its consumers' health: every consumer running and
 * connected, its backlog under `maxLag`, its last poll within `maxPollAgeMs`.
 *
 * @example
 * const readiness = checkReadiness([...healthOf(channel), ...consumer.health()], { maxLag: 10_000 });
 * res.writeHead(readiness.ready ? 200 : 503).end(JSON.stringify(readiness));
 */
export function checkReadiness(
  consumers: Iterable<ConsumerHealth>,
  options: ReadinessOptions = {},
): Readiness {
  const now = (options.now ?? Date.now)();
  const reasons: string[] = [];
  const list = [...consumers];
  for (const consumer of list) {
    const problems: string[] = [];
    if (!consumer.running) problems.push('consumer not running');
    else if (!consumer.connected) problems.push('not connected to the broker');
    if (
      options.maxLag !== undefined &&
      consumer.lag !== undefined &&
      consumer.lag > options.maxLag
    ) {
      problems.push(`lag ${consumer.lag} above ${options.maxLag}`);
    }
    if (
      options.maxPollAgeMs !== undefined &&
      consumer.running &&
      (consumer.lastPollAtMs === undefined || now - consumer.lastPollAtMs > options.maxPollAgeMs)
    ) {
      problems.push(`no successful poll in the last ${options.maxPollAgeMs} ms`);
    }
    if (problems.length > 0 && consumer.lastError !== undefined) {
      problems.push(`last error: ${consumer.lastError}`);
    }
    const name = `${consumer.system} ${consumer.destination}${consumer.consumerGroup ? ` (${consumer.consumerGroup})` : ''}`;
    for (const problem of problems) reasons.push(`${name}: ${problem}`);
  }
  return { ready: reasons.length === 0, reasons, consumers: list };
}
