import { compare, report, type Scenario } from './measure.js';

// Each bus registers its scenario here; `npm run bench -- <name>` runs just one.
const scenarios: Record<string, () => Promise<Scenario | undefined>> = {
  'event-emitter': async () => (await import('./event-emitter.js')).scenario(),
  redis: async () => (await import('./redis.js')).scenario(),
  rabbitmq: async () => (await import('./rabbitmq.js')).scenario(),
  kafka: async () => (await import('./kafka.js')).scenario(),
  // Not a broker measurement: Baton around an in-process kafkajs-shaped fake.
  'kafka-fake': async () => (await import('./kafka.js')).fakeScenario(),
};

const wanted = process.argv.slice(2);
for (const [name, load] of Object.entries(scenarios)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const scenario = await load();
  if (!scenario) {
    console.log(`\n${name}: skipped (its broker is not reachable)`);
    continue;
  }
  console.log(report(scenario, await compare(scenario)));
}
