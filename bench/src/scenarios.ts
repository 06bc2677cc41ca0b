import type { Scenario } from './measure.js';

/** Every bus's scenario; `npm run bench -- <name>` runs just one. */
export const scenarios: Record<string, () => Promise<Scenario | undefined>> = {
  'event-emitter': async () => (await import('./event-emitter.js')).scenario(),
  redis: async () => (await import('./redis.js')).scenario(),
  rabbitmq: async () => (await import('./rabbitmq.js')).scenario(),
  kafka: async () => (await import('./kafka.js')).scenario(),
  // Not a broker measurement: Baton around an in-process kafkajs-shaped fake.
  'kafka-fake': async () => (await import('./kafka.js')).fakeScenario(),
};
