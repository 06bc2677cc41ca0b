import type { ConsumerHealth } from '@baton/core';
import type { StreamConsumer } from './types.js';

// Each consumer's health, by the consumer object createConsumer returned. Weak: a consumer
// the application dropped is not kept alive by its health.
const readers = new WeakMap<object, () => ConsumerHealth>();

/** Makes `read` the health of `consumer`. Internal. */
export function registerHealth(consumer: object, read: () => ConsumerHealth): void {
  readers.set(consumer, read);
}

/**
 * The health of a consumer {@link createConsumer} returned, for a readiness check: running
 * (started and not stopped), connected (its client and its blocking connection are ready),
 * when its last `XREADGROUP` returned (at least every `blockMs` while connected), the lag
 * of its group from its latest `XINFO GROUPS` reading, and its last error. One item; empty
 * for anything else. Feed it to core's `checkReadiness`.
 *
 * @example
 * const readiness = checkReadiness(healthOf(consumer), { maxLag: 10_000, maxPollAgeMs: 10_000 });
 */
export function healthOf(consumer: StreamConsumer): ConsumerHealth[] {
  const read = readers.get(consumer);
  return read === undefined ? [] : [read()];
}
