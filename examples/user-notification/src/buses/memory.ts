import type { EventBus } from '@baton/event-emitter';
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
    // No connection to lose; @baton/event-emitter has no healthOf (the demo serves no
    // health endpoint in one process).
    health: () => ({
      connected: true,
      consumers: [],
      unchecked: ['@baton/event-emitter has no healthOf'],
    }),
  };
}
