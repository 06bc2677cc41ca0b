import {
  type RunningDemo,
  SERVICES,
  type ServiceName,
  startMultiProcessDemo,
} from '@baton/example-user-notification/multi-process';
import { waitFor } from '@baton/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import { closeFromBroker } from './rabbitmq-harness.js';
import { hasRedisServer, OwnRedis } from './redis-server.js';

// /health/ready of the demo's services while their broker connection is lost and back:
// 503 with the reason, then 200 once the service has reconnected on its own, and a
// registration flows end to end again. Never the shared brokers' state: RabbitMQ closes
// only this run's named connection; Redis is this test's own redis-server.
const amqpUrl = await brokerOrSkip('rabbitmq');
const redisUrl = await brokerOrSkip('redis');
const canStartRedis = hasRedisServer();
if (redisUrl && !canStartRedis)
  console.warn('\n*** demo readiness over Redis SKIPPED: no redis-server ***\n');

interface Ready {
  status: number;
  body: { ready: boolean; reasons: string[]; connected: boolean };
}

async function readiness(demo: RunningDemo, service: ServiceName): Promise<Ready> {
  const response = await fetch(`${demo.opsUrls[service]}/health/ready`);
  return { status: response.status, body: (await response.json()) as Ready['body'] };
}

// Polled often: the services reconnect after a second.
const until = (
  demo: RunningDemo,
  service: ServiceName,
  status: number,
  message: string,
  also: (ready: Ready) => boolean = () => true,
) =>
  waitFor(
    async () => {
      const ready = await readiness(demo, service);
      return ready.status === status && also(ready) ? ready : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20, message },
  );

const registration = {
  title: 'after the outage',
  body: JSON.stringify({ name: 'Barbara Liskov', email: 'barbara@example.com' }),
};

let demo: RunningDemo | undefined;
let ownRedis: OwnRedis | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
  await ownRedis?.kill();
  ownRedis = undefined;
});

describe('the demo services under /health', () => {
  it.skipIf(!amqpUrl)(
    'answer alive on /health, and /health/ready turns 503 with the reason when RabbitMQ closes the connection, then 200 once reconnected',
    async () => {
      demo = await startMultiProcessDemo('rabbitmq');
      for (const service of SERVICES) {
        const alive = await fetch(`${demo.opsUrls[service]}/health`);
        expect(alive.status).toBe(200);
        expect(await alive.json()).toEqual({ status: 'alive' });
        expect((await readiness(demo, service)).status).toBe(200);
      }
      await closeFromBroker(`${demo.namespace}.notification_service`, 'baton demo readiness test');

      const down = await until(demo, 'notification_service', 503, 'not ready after the close');
      expect(down.body.ready).toBe(false);
      expect(down.body.connected).toBe(false);
      expect(down.body.reasons[0]).toMatch(
        /^rabbitmq connection: .*CONNECTION_FORCED - baton demo readiness test/,
      );
      const queue = `${demo.namespace}.notification_service.user.registered`;
      expect(down.body.reasons).toContain(`rabbitmq ${queue}: consumer not running`);
      // Only that service lost its connection.
      expect((await readiness(demo, 'user_service')).status).toBe(200);
      expect(demo.logs).toContainEqual({
        name: 'notification_service',
        msg: expect.stringMatching(/^rabbitmq: connection lost: .*CONNECTION_FORCED/),
      });

      const back = await until(demo, 'notification_service', 200, 'ready after reconnecting');
      expect(back.body).toMatchObject({ ready: true, reasons: [], connected: true });
      const outcome = await demo.request(registration);
      expect(outcome.status).toBe(201);
    },
  );

  it.skipIf(!redisUrl || !canStartRedis)(
    '/health/ready turns 503 with the reason while Redis is down, then 200 once it is back',
    async () => {
      ownRedis = await OwnRedis.start();
      demo = await startMultiProcessDemo('redis', { env: { REDIS_URL: ownRedis.url } });
      // A Redis consumer is ready once its first read returned (maxPollAgeMs): on a loaded
      // machine that can come a moment after the service said it started.
      for (const service of SERVICES) await until(demo, service, 200, `${service} ready at start`);
      await ownRedis.kill();

      for (const service of SERVICES) {
        // A consumer's blocking connection may see the outage before the service's client.
        const down = await until(
          demo,
          service,
          503,
          `${service} not ready and disconnected while Redis is down`,
          (ready) => !ready.body.connected,
        );
        expect(down.body.reasons[0], service).toMatch(/^redis connection: connection \w+/);
      }
      const stream = `${demo.namespace}:user.registered`;
      const consumer = await readiness(demo, 'notification_service');
      expect(consumer.body.reasons).toContain(
        `redis ${stream} (notification_service): not connected to the broker`,
      );

      await ownRedis.restart();
      for (const service of SERVICES) {
        const back = await until(demo, service, 200, `${service} ready after the restart`);
        expect(back.body).toMatchObject({ ready: true, reasons: [], connected: true });
      }
      // Redis lost everything (no persistence): the group is created again, and a
      // registration still reaches audit_service.
      const outcome = await demo.request(registration);
      expect(outcome.status).toBe(201);
    },
  );

  it.skipIf(!redisUrl)(
    '/health/ready turns 503 while a consumer backlog is above the bound, and 200 once it drains',
    async () => {
      demo = await startMultiProcessDemo('redis', { spike: true, maxLag: 3 });
      const slow = await fetch(`${demo.opsUrls.notification_service}/spike?delay_ms=300`, {
        method: 'POST',
      });
      expect(slow.status).toBe(200);
      // Registrations arrive faster than the slow relay sends: the backlog grows.
      const api = demo.apiUrl;
      const sent = Array.from({ length: 40 }, (_, n) =>
        fetch(`${api}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Burst ${n}`, email: `burst${n}@example.com` }),
        }),
      );
      expect((await Promise.all(sent)).map((r) => r.status)).toEqual(sent.map(() => 201));
      const stream = `${demo.namespace}:user.registered`;
      const lagging = await until(demo, 'notification_service', 503, 'not ready above maxLag');
      expect(lagging.body.connected).toBe(true);
      expect(lagging.body.reasons).toEqual([
        expect.stringMatching(
          new RegExp(`^redis ${stream} \\(notification_service\\): lag \\d+ above 3$`),
        ),
      ]);
      await fetch(`${demo.opsUrls.notification_service}/spike`, { method: 'DELETE' });
      await until(demo, 'notification_service', 200, 'ready once the backlog drained');
    },
  );
});
