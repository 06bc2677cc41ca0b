import {
  type ConsumerErrorInfo,
  createConsumer,
  type StreamConsumer,
  type StreamConsumerOptions,
  type StreamEntry,
  traceProducer,
} from '@baton/ioredis';
import { waitFor } from '@baton/testing';
import type { Redis, RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { groupInfo, REDIS_CLIENTS } from './redis-clients.js';
import { ReplyDroppingProxy } from './redis-proxy.js';
import { hasRedisServer, OwnRedis } from './redis-server.js';

// Broker faults against a Redis these tests start themselves (redis-server on a free port,
// no persistence), never the shared one; the lost-reply test puts a proxy in front of the
// shared Redis and cuts only its own connection.
const url = await brokerOrSkip('redis');
const canStartRedis = hasRedisServer();
if (url && !canStartRedis) console.warn('\n*** Redis fault tests SKIPPED: no redis-server ***\n');

describe.skipIf(!url || !canStartRedis).each(REDIS_CLIENTS)(
  '@baton/ioredis under Redis faults with $name',
  (variant) => {
    let own: OwnRedis;
    let clients: Redis[];
    let consumers: StreamConsumer[];
    let errors: Array<{ error: unknown; info: ConsumerErrorInfo }>;
    let stream: string;
    let cleanUp: Array<() => Promise<unknown>>;
    const group = 'faults';

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
      errors = [];
      cleanUp = [];
      stream = uniqueName('baton-redis-faults');
    });
    afterEach(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      for (const step of cleanUp) await step();
      for (const client of clients) client.disconnect();
      vi.restoreAllMocks();
    });

    const connect = (target: string, options: RedisOptions = {}) => {
      const client = variant.create(target, options);
      client.on('error', () => {}); // the application's own client: its errors are its own
      clients.push(client);
      return client;
    };
    const startConsumer = async (redis: Redis, options: Partial<StreamConsumerOptions>) => {
      const consumer = createConsumer(redis, {
        stream,
        consumerGroup: group,
        createGroup: true,
        groupStartId: '0',
        claimIdleMs: 600_000, // no XAUTOCLAIM round may bring an entry back in these tests
        onError: (error, info) => void errors.push({ error, info }),
        ...options,
      });
      consumers.push(consumer);
      await consumer.start();
      return consumer;
    };
    const readErrors = () => errors.filter((e) => e.info.operation === 'receive');

    it('recreates the group Redis lost in a restart and handles every entry sent after it', async () => {
      const redis = connect(own.url);
      const handled = new Set<number>();
      await startConsumer(redis, {
        eachMessage: (e) => void handled.add(Number(e.fields.n!.toString())),
      });
      const producerClient = connect(own.url);
      const producer = traceProducer(producerClient);
      // Where each send's XADD reply came from: the first server, or the restarted one.
      let server: 'first' | 'down' | 'restarted' = 'first';
      producerClient.on('ready', () => {
        if (server === 'down') server = 'restarted';
      });
      const repliedBy = new Map<number, 'first' | 'restarted'>();
      let sending = true;
      let next = 0;
      const sends: Array<Promise<unknown>> = [];
      const sendLoop = (async () => {
        while (sending) {
          const n = next++;
          const sent = producer.xadd(stream, '*', 'n', String(n)).then(
            () => {
              if (server !== 'down') repliedBy.set(n, server);
            },
            () => {}, // a send the producer saw fail is the producer's to retry
          );
          sends.push(sent);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await waitFor(() => handled.size >= 100, { message: '100 handled before the restart' });
      server = 'down';
      await own.kill();
      const sentBeforeRestart = next;
      await waitFor(() => next >= sentBeforeRestart + 20, { message: 'sends during the outage' });
      await own.restart();
      await waitFor(() => [...repliedBy.values()].filter((s) => s === 'restarted').length >= 200, {
        message: '200 sends answered by the restarted Redis',
        timeoutMs: 20_000,
      });
      sending = false;
      await sendLoop;
      await Promise.all(sends);
      // Baton's part: every entry the restarted Redis holds (those sent during the outage
      // and after it) is handled and acknowledged.
      const afterRestart = [...repliedBy].filter(([, s]) => s === 'restarted').map(([n]) => n);
      await waitFor(() => afterRestart.every((n) => handled.has(n)), {
        message: 'every entry sent after the restart handled',
        timeoutMs: 20_000,
      });
      const held = (await redis.xrange(stream, '-', '+')).map(([, f]) => Number(f[1]));
      expect(held.length).toBeGreaterThanOrEqual(afterRestart.length);
      expect(held.filter((n) => !handled.has(n))).toEqual([]);
      await waitFor(async () => Number((await groupInfo(redis, stream))?.pending) === 0);
      // Not Baton's part: the first server held its entries in memory only, so those it
      // acknowledged and the consumer had not handled before the kill are gone with it (and
      // so are the acknowledgements and the group itself). Sends whose reply the kill cut
      // off are unknowable to the producer; ioredis resends them, so they are in the new
      // stream (and handled above) or were lost with the first server.
      expect(readErrors()).toHaveLength(1); // one outage, one report
    });

    it('reports a lost group once when createGroup is off, and resumes once it exists again', async () => {
      const redis = connect(own.url);
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      const handled: string[] = [];
      await startConsumer(redis, {
        createGroup: false,
        eachMessage: (e) => void handled.push(e.fields.n!.toString()),
      });
      // Redis counts the NOGROUP replies it sends (per server, since it started).
      const noGroupErrors = async () => {
        const info = await redis.info('errorstats');
        return Number(/errorstat_NOGROUP:count=(\d+)/.exec(info)?.[1] ?? 0);
      };
      const before = await noGroupErrors();
      await redis.xgroup('DESTROY', stream, group);
      await waitFor(async () => (await noGroupErrors()) >= before + 4, {
        message: 'four failed reads',
      });
      expect(errors).toHaveLength(1);
      expect(String(errors[0]?.error)).toMatch(/consumer group faults .* does not exist/);
      expect(errors[0]?.info.operation).toBe('receive');
      await redis.xgroup('CREATE', stream, group, '$');
      await redis.xadd(stream, '*', 'n', 'after');
      await waitFor(() => handled.includes('after'), { message: 'the entry handled' });
      expect(errors).toHaveLength(1);
    });

    it('stops while Redis is down, reporting the outage once and printing nothing', async () => {
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
      // The worst case for a stop: commands wait for Redis forever. A steady reconnect
      // cadence makes "attempts" a clock the test can count on.
      const redis = connect(own.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
      let reconnects = 0;
      redis.on('reconnecting', () => {
        reconnects += 1;
      });
      const consumer = await startConsumer(redis, { eachMessage: () => {} });
      await own.kill();
      await waitFor(() => reconnects >= 3, { message: 'three reconnect attempts' });
      let stopped = false;
      const stopping = consumer.stop().then(() => {
        stopped = true;
      });
      // stop() resolves while Redis is still down, before the client tries ten more times.
      const attemptsBefore = reconnects;
      await waitFor(() => stopped || reconnects >= attemptsBefore + 10, {
        message: 'stop or ten more reconnect attempts',
      });
      expect(stopped).toBe(true);
      await stopping;
      expect(own.running).toBe(false);
      const attemptsAtStop = reconnects;
      await waitFor(() => reconnects >= attemptsAtStop + 2, { message: 'more reconnects' });
      const unhandled = consoleError.mock.calls.filter((args) =>
        String(args[0]).includes('Unhandled error event'),
      );
      expect(unhandled).toEqual([]);
      expect(readErrors()).toHaveLength(1);
    });

    it('handles an entry whose XREADGROUP reply was lost right after the reconnect, as a first delivery', async () => {
      const { hostname, port } = new URL(url!);
      const proxy = await ReplyDroppingProxy.start({ host: hostname, port: Number(port) || 6379 });
      const direct = connect(url!);
      cleanUp.push(
        () => direct.del(stream),
        () => proxy.close(),
      );
      // The name marks this test's connections in the shared Redis's CLIENT LIST.
      const redis = connect(proxy.url, { connectionName: stream });
      const seen: StreamEntry[] = [];
      await startConsumer(redis, { blockMs: 60_000, eachMessage: (e) => void seen.push(e) });
      const blocked = async () =>
        String(await direct.client('LIST'))
          .split('\n')
          .some((line) => line.includes(`name=${stream}`) && line.includes('cmd=xreadgroup'));
      await waitFor(blocked, { message: 'the consumer blocked in XREADGROUP' });
      proxy.arm();
      const id = await direct.xadd(stream, '*', 'n', 'lost-reply');
      await waitFor(() => proxy.droppedCount === 1, { message: 'the reply dropped' });
      // claimIdleMs is 10 minutes: only the re-read after the reconnect can bring it back.
      await waitFor(() => seen.length === 1, { message: 'the entry handled' });
      expect(seen[0]).toMatchObject({ id, deliveryCount: 1 });
      await waitFor(async () => Number((await groupInfo(direct, stream))?.pending) === 0, {
        message: 'the XACK',
      });
    });
  },
);
