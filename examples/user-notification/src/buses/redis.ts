import { createConsumer, healthOf, type StreamConsumer, traceProducer } from '@baton/ioredis';
import { isReachable } from '@baton/testing';
import { Redis } from 'ioredis';
import type { BusFactoryOptions, DemoBus, Payload } from '../bus.js';

const DEFAULT_URL = 'redis://127.0.0.1:6379'; // what `docker compose up -d redis` exposes
const STREAM_TTL_SECONDS = 3600; // a demo run's streams clean themselves up

// ioredis reconnects to an unreachable server forever; the demo should say so at once.
const reachable = (address: string) => isReachable(address, 6379, 2000);

/**
 * The demo bus over Redis Streams (ioredis wrapped by @baton/ioredis): one stream per
 * event, `<namespace>:<event>`, and one consumer group per subscribing service. A handler
 * that throws leaves its entry pending; the group consumer claims it again after a second,
 * in the same trace, and dead-letters it after 5 deliveries. The server comes from
 * `REDIS_URL` (default redis://127.0.0.1:6379); when none answers, this rejects at once.
 * A connection lost later is ioredis's to restore: it reconnects on its own, and the
 * consumers read again (recreating their group if Redis lost it).
 */
export async function createRedisBus(options: BusFactoryOptions): Promise<DemoBus> {
  const url = process.env.REDIS_URL || DEFAULT_URL;
  if (!(await reachable(url))) {
    throw new Error(
      `no Redis answers at ${url} (set REDIS_URL, or run \`docker compose up -d redis\`)`,
    );
  }
  const redis = traceProducer(
    new Redis(url, { connectionName: `${options.namespace}.${options.service}` }),
  );
  // ioredis reports a lost connection as 'error' events, one per reconnect attempt: one
  // line on stderr per outage (the health endpoint tells the rest).
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    if (lastError === undefined) process.stderr.write(`redis: connection lost: ${error.message}\n`);
    lastError = `${error.name}: ${error.message}`;
  });
  redis.on('ready', () => {
    if (lastError !== undefined) process.stderr.write('redis: connection back\n');
    lastError = undefined;
  });
  const consumers: StreamConsumer[] = [];
  const streamName = (event: string) => `${options.namespace}:${event}`;

  return {
    kind: 'redis',
    async publish(event, payload) {
      const stream = streamName(event);
      // XADD and EXPIRE in one round trip: the traced client's pipeline traces its XADD.
      const results = await redis
        .pipeline()
        .xadd(stream, 'MAXLEN', '~', 10_000, '*', 'payload', JSON.stringify(payload))
        .expire(stream, STREAM_TTL_SECONDS)
        .exec();
      const failure = results?.find(([error]) => error)?.[0];
      if (failure) throw failure;
    },
    async subscribe(event, group, handler) {
      const consumer = createConsumer(redis, {
        stream: streamName(event),
        consumerGroup: group,
        consumer: `${group}-${process.pid}`,
        createGroup: true,
        groupStartId: '0', // entries published before this service started are its too
        claimIdleMs: 1000,
        blockMs: 1000,
        lagIntervalMs: 2000,
        fieldEncoding: 'utf8', // the payload is JSON text
        eachMessage: (entry) => handler(JSON.parse(entry.fields.payload ?? 'null') as Payload),
      });
      await consumer.start();
      consumers.push(consumer);
    },
    async close() {
      // stop() waits for the handlers in flight and their XACKs.
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await redis.quit();
    },
    health() {
      const connected = redis.status === 'ready';
      return {
        connected,
        ...(!connected && {
          connectionError: `connection ${redis.status}${lastError ? ` (${lastError})` : ''}`,
        }),
        consumers: consumers.flatMap((consumer) => healthOf(consumer)),
      };
    },
  };
}
