import { type ConsumerHealth, readHealth } from '@baton/core';
import type { StreamConsumer } from './types.js';

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
  return readHealth(consumer);
}
