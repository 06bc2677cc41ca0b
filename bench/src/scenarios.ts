import type { Scenario } from './measure.js';

/** Every bus's scenario; `npm run bench -- <name>` runs just those named. */
export const scenarios: Record<string, () => Promise<Scenario | undefined>> = {
  'event-emitter': async () => (await import('./event-emitter.js')).scenario(),
  redis: async () => (await import('./redis.js')).scenario(),
  rabbitmq: async () => (await import('./rabbitmq.js')).scenario(),
  // A real broker when KAFKA_BROKERS (or 127.0.0.1:9092) answers, else the fake below,
  // and its title says which.
  kafka: async () => {
    const kafka = await import('./kafka.js');
    return (await kafka.scenario()) ?? (await import('./kafka-fake.js')).fakeScenario();
  },
  // Not a broker measurement: Baton around an in-process kafkajs-shaped fake.
  'kafka-fake': async () => (await import('./kafka-fake.js')).fakeScenario(),
};

/**
 * The scenarios of the "100 µs handler" line: in process and Redis by default (it costs
 * about 2 minutes per bus); `--handler-all` adds the others.
 */
export const HANDLER_SCENARIOS = ['event-emitter', 'redis'];
export const MORE_HANDLER_SCENARIOS = ['rabbitmq', 'kafka', 'kafka-fake'];
