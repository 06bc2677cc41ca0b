import { type EventBus, healthOf } from '@baton/event-emitter';
import type { DemoBus, Payload } from '../bus.js';

/** The in-process bus: one shared {@link EventBus}; each service gets its own view of it. */
export function createMemoryBus(bus: EventBus<Record<string, Payload>>): DemoBus {
  return {
    kind: 'memory',
    async publish(event, payload) {
      bus.publish(event, payload);
    },
    async subscribe(event, group, handler) {
      bus.subscribe(event, handler, { consumerGroup: group });
    },
    close: () => bus.idle(),
    // No connection to lose; healthOf(view) lists this service's subscriptions (the demo
    // serves no health endpoint in one process, the services' readiness still reads it).
    health: () => ({ connected: true, consumers: healthOf(bus) }),
  };
}
