import {
  type ConsumerHealth,
  HealthTracker,
  type MessagingTelemetry,
  readHealth,
} from '@baton/core';
import { KAFKA_SYSTEM } from './describe.js';
import type { KafkaConsumerLike, KafkaInstrumentationEventLike } from './types.js';

// Topics named by subscribe() or a group assignment. Bounded like the lag tracker's.
const MAX_TOPICS = 1024;

interface CrashPayload {
  error?: unknown;
  restart?: unknown;
}

/**
 * The health of one traced kafkajs consumer, kept from kafkajs's instrumentation events:
 * `CONNECT` / `DISCONNECT` (connected), `STOP` and `CRASH` (running; a crash that kafkajs
 * restarts keeps it running but disconnected until it connects again), `FETCH` (a poll),
 * `GROUP_JOIN` (the assigned topics). One entry per topic it subscribed to or was assigned,
 * sharing the consumer's state, each with that topic's lag summed over partitions.
 */
export class KafkaConsumerHealth {
  private readonly state: HealthTracker;
  private readonly topics = new Set<string>();

  constructor(
    private readonly group: () => string | undefined,
    private readonly lagOf: (topic: string) => number | undefined,
  ) {
    this.state = new HealthTracker(KAFKA_SYSTEM, '');
  }

  /** Topics named by `subscribe({ topics })` / `subscribe({ topic })` (patterns are skipped). */
  subscribed(options: unknown): void {
    try {
      const given = options as { topic?: unknown; topics?: unknown } | null | undefined;
      const topics: unknown[] = Array.isArray(given?.topics) ? given.topics : [given?.topic];
      for (const topic of topics) {
        if (typeof topic === 'string' && topic !== '') this.addTopic(topic);
      }
    } catch {
      // Whatever the caller passed, kafkajs judges it; health learns topics from the join.
    }
  }

  /** `run` was called. */
  ran(): void {
    this.state.running = true;
  }

  /** `stop` / `disconnect` returned (or threw): the consumer no longer runs. */
  stopped(disconnected: boolean): void {
    this.state.running = false;
    if (disconnected) this.state.connected = false;
  }

  /** Listens to the consumer's instrumentation events for its lifetime. */
  listen(consumer: KafkaConsumerLike, telemetry: MessagingTelemetry): void {
    const events = consumer.events;
    if (typeof consumer.on !== 'function' || events === undefined) return;
    const on = (name: string | undefined, listener: (e: KafkaInstrumentationEventLike) => void) => {
      if (typeof name !== 'string') return;
      try {
        consumer.on?.(name, (e) => {
          try {
            listener(e);
          } catch (error) {
            telemetry.diagnostics.warnOnce('consumer health', error);
          }
        });
      } catch (error) {
        telemetry.diagnostics.warnOnce('consumer events', error);
      }
    };
    const state = this.state;
    on(events.CONNECT, () => {
      state.connected = true;
    });
    on(events.DISCONNECT, () => {
      state.connected = false;
    });
    on(events.STOP, () => {
      state.running = false;
    });
    on(events.CRASH, (e) => {
      const payload = e?.payload as CrashPayload | undefined;
      state.failed(payload?.error ?? 'the consumer crashed');
      state.connected = false;
      // kafkajs restarts the consumer unless the error is not retriable (or restartOnFailure
      // said no): it is still running, not yet connected again.
      state.running = payload?.restart === true;
    });
    on(events.GROUP_JOIN, (e) => {
      state.connected = true;
      const assignment = (e?.payload as { memberAssignment?: unknown } | undefined)
        ?.memberAssignment;
      if (assignment !== null && typeof assignment === 'object') {
        for (const topic of Object.keys(assignment)) this.addTopic(topic);
      }
    });
    on(events.FETCH, () => state.polled());
  }

  snapshot(): ConsumerHealth[] {
    const group = this.group();
    const topics = this.topics.size > 0 ? [...this.topics] : this.state.running ? ['*'] : [];
    return topics.map((topic) => {
      const tracker = new HealthTracker(KAFKA_SYSTEM, topic, group);
      tracker.running = this.state.running;
      tracker.connected = this.state.connected;
      tracker.lastPollAtMs = this.state.lastPollAtMs;
      tracker.lastError = this.state.lastError;
      tracker.lag = topic === '*' ? undefined : this.lagOf(topic);
      return tracker.snapshot();
    });
  }

  private addTopic(topic: string): void {
    if (this.topics.size < MAX_TOPICS) this.topics.add(topic);
  }
}

/**
 * The health of a consumer {@link traceConsumer} returned, for core's `checkReadiness`: one
 * entry per topic it subscribed to (or was assigned), all sharing the consumer's state.
 * `running`: `run` was called and the consumer has not stopped or crashed for good (a crash
 * kafkajs restarts keeps it running, disconnected until it is back); `connected`: kafkajs's
 * `CONNECT` / `DISCONNECT` events and the group joins; `lastPollAtMs`: the last fetch that
 * returned (kafkajs fetches at least every `maxWaitTimeInMs` while it runs and no handler
 * holds it); `lag`: the topic's latest `baton.consumer.lag` readings summed over partitions;
 * `lastError`: the last crash. Empty for anything else.
 *
 * @example
 * const readiness = checkReadiness(healthOf(consumer), { maxLag: 10_000, maxPollAgeMs: 30_000 });
 */
export function healthOf(consumer: object): ConsumerHealth[] {
  return readHealth(consumer);
}
