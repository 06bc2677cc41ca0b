import type { BusFactoryOptions, DemoBus } from '../bus.js';

/** The buses the services can run on as separate processes. */
export type BrokerBusKind = 'redis' | 'rabbitmq' | 'kafka';

type Factory = (options: BusFactoryOptions) => Promise<DemoBus>;
const FACTORIES: Record<BrokerBusKind, string> = {
  redis: 'createRedisBus',
  rabbitmq: 'createRabbitMqBus',
  kafka: 'createKafkaBus',
};

/** Connects to the broker of `kind` through its Baton adapter (buses/<kind>.ts). */
export async function createBus(kind: BrokerBusKind, options: BusFactoryOptions): Promise<DemoBus> {
  const module = (await import(`./${kind}.js`)) as Record<string, Factory>;
  const factory = module[FACTORIES[kind]];
  if (typeof factory !== 'function') throw new Error(`no ${FACTORIES[kind]} in buses/${kind}`);
  return factory(options);
}
