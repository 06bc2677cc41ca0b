import { checkReadiness } from '@baton/core';
import { createConsumer, healthOf, type StreamConsumer, traceProducer } from '@baton/ioredis';
import { waitFor } from '@baton/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS } from './redis-clients.js';
import { hasRedisServer, OwnRedis } from './redis-server.js';

// Readiness from healthOf(consumer), against a Redis this test starts, kills and starts
// again (redis-server on a free port), never the shared one.
const url = await brokerOrSkip('redis');
const canStartRedis = hasRedisServer();
if (url && !canStartRedis) console.warn('\n*** Redis health tests SKIPPED: no redis-server ***\n');

describe.skipIf(!url || !canStartRedis).each(REDIS_CLIENTS)(
  '@baton/ioredis consumer health with $name',
  (variant) => {
    let own: OwnRedis;
    let clients: Redis[];
    let consumers: StreamConsumer[];
    let stream: string;
    const group = 'health';

    beforeAll(async () => {
      own = await OwnRedis.start();
    });
    afterAll(async () => {
      await own.kill();
    });
    beforeEach(async () => {
      if (!own.running) await own.restart();
      clients = [];
      consumers = [];
      stream = uniqueName('baton-redis-health');
    });
    afterEach(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      for (const client of clients) client.disconnect();
    });

    const connect = () => {
      const client = variant.create(own.url, { retryStrategy: () => 50 });
      client.on('error', () => {}); // the application's own client: its errors are its own
      clients.push(client);
      return client;
    };
    const consumerOn = (redis: Redis, eachMessage: () => unknown = () => {}) => {
      const consumer = createConsumer(redis, {
        stream,
        consumerGroup: group,
        createGroup: true,
        groupStartId: '0',
        count: 1, // one entry per read: while its handler runs, the others wait unread
        blockMs: 100,
        lagIntervalMs: 50,
        onError: () => {},
        eachMessage,
      });
      consumers.push(consumer);
      return consumer;
    };

    it('turns not ready while its Redis is down, with the reason, and ready again once it is back', async () => {
      const consumer = consumerOn(connect());
      const readiness = () => checkReadiness(healthOf(consumer), { maxPollAgeMs: 60_000 });
      expect(readiness().reasons).toEqual([`redis ${stream} (${group}): consumer not running`]);
      await consumer.start();
      await waitFor(() => readiness().ready, { message: 'ready after start' });
      expect(healthOf(consumer)).toEqual([
        expect.objectContaining({
          system: 'redis',
          destination: stream,
          consumerGroup: group,
          running: true,
          connected: true,
          lastPollAtMs: expect.any(Number),
        }),
      ]);

      await own.kill();
      const down = await waitFor(() => (readiness().ready ? undefined : readiness()), {
        message: 'not ready while Redis is down',
      });
      expect(down.reasons[0]).toBe(`redis ${stream} (${group}): not connected to the broker`);
      await waitFor(() => healthOf(consumer)[0]?.lastError !== undefined, {
        message: 'the outage as the last error',
      });
      // The outage as the consumer saw it first (refused, reset or closed: a race).
      expect(readiness().reasons[1]).toMatch(
        new RegExp(`^redis ${stream} \\(${group}\\): last error: \\w+: .+`),
      );

      const lostAt = healthOf(consumer)[0]?.lastPollAtMs ?? 0;
      await own.restart();
      await waitFor(() => readiness().ready, { message: 'ready again', timeoutMs: 20_000 });
      await waitFor(() => (healthOf(consumer)[0]?.lastPollAtMs ?? 0) > lostAt, {
        message: 'a read after the restart',
      });
      await consumer.stop();
      expect(readiness().reasons).toEqual([
        expect.stringMatching(/: consumer not running$/),
        expect.stringMatching(/: last error: /),
      ]);
    });

    it('reports the lag of its group, and is not ready above maxLag', async () => {
      const redis = connect();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const consumer = consumerOn(redis, () => gate);
      await consumer.start();
      const traced = traceProducer(redis);
      for (let i = 0; i < 6; i++) await traced.xadd(stream, '*', 'n', String(i));
      // The first entry read holds its handler; the entries behind it are not read yet.
      const lagged = await waitFor(
        () => {
          const readiness = checkReadiness(healthOf(consumer), { maxLag: 0 });
          return readiness.ready ? undefined : readiness;
        },
        { message: 'a lag above 0' },
      );
      expect(lagged.reasons[0]).toMatch(
        new RegExp(`^redis ${stream} \\(${group}\\): lag \\d+ above 0$`),
      );
      release();
      await waitFor(() => healthOf(consumer)[0]?.lag === 0, { message: 'lag 0' });
      expect(checkReadiness(healthOf(consumer), { maxLag: 0 }).ready).toBe(true);
    });

    it('tells nothing about what is not a consumer it made', () => {
      expect(healthOf({} as StreamConsumer)).toEqual([]);
    });
  },
);
