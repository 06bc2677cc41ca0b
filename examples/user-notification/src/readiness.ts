import { checkReadiness, type Readiness } from '@baton/core';
import type { BusHealth } from './bus.js';

/** Bounds of a service's readiness. */
export interface ReadinessBounds {
  /** Not ready while a consumer's backlog is above this. */
  maxLag: number;
  /** Not ready when a consumer has not read for this long (poll-based buses only). */
  maxPollAgeMs?: number;
}

/** What `/health/ready` answers: core's {@link Readiness}, and what could not be checked. */
export interface ServiceReadiness extends Readiness {
  connected: boolean;
  unchecked?: string[];
}

/**
 * A service's readiness from its bus: the connection up (the producer side), then core's
 * `checkReadiness` over the adapters' consumer health (running, connected, lag under
 * `maxLag`, a read within `maxPollAgeMs`).
 */
export function serviceReadiness(
  kind: string,
  health: BusHealth,
  bounds: ReadinessBounds,
): ServiceReadiness {
  const consumers = checkReadiness(health.consumers, {
    maxLag: bounds.maxLag,
    ...(bounds.maxPollAgeMs !== undefined && { maxPollAgeMs: bounds.maxPollAgeMs }),
  });
  const reasons = health.connected
    ? consumers.reasons
    : [`${kind} connection: ${health.connectionError ?? 'down'}`, ...consumers.reasons];
  return {
    ready: reasons.length === 0,
    reasons,
    connected: health.connected,
    consumers: consumers.consumers,
    ...(health.unchecked?.length && { unchecked: health.unchecked }),
  };
}
