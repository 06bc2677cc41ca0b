import type { BusFactoryOptions, DemoBus } from '../bus.js';

/** The buses the services can run on as separate processes. */
export type BrokerBusKind = 'redis' | 'rabbitmq' | 'kafka';

/** Connects to the broker of `kind` through its Baton adapter (buses/<kind>.ts). */
export async function createBus(kind: BrokerBusKind, options: BusFactoryOptions): Promise<DemoBus> {
  switch (kind) {
    case 'redis':
      return (await import('./redis.js')).createRedisBus(options);
    case 'rabbitmq':
      return (await import('./rabbitmq.js')).createRabbitMqBus(options);
    case 'kafka':
      return (await import('./kafka.js')).createKafkaBus(options);
  }
}
