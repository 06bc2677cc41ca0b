import { traceChannel } from '@baton/amqplib';
import { runConformanceSuite } from '@baton/testing/conformance';
import amqp from 'amqplib';
import { describe } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');

describe.skipIf(!url)('RabbitMQ', () => {
  runConformanceSuite({
    name: '@baton/amqplib',
    // ackMode 'auto' rejects a failed delivery with requeue: the broker delivers it again.
    onHandlerError: 'redeliver',
    messageCount: 500,
    async createHarness(options) {
      const connection = await amqp.connect(url as string);
      const raw = await connection.createConfirmChannel();
      const channel = traceChannel(raw, { ...options, ackMode: 'auto' });
      const queue = uniqueName('baton-conformance');
      await channel.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
      const confirmed = (send: (done: (error: unknown) => void) => void) =>
        new Promise<void>((resolve, reject) =>
          send((error) => (error ? reject(error) : resolve())),
        );
      return {
        publish: (body) =>
          confirmed((done) => channel.sendToQueue(queue, Buffer.from(body), {}, done)),
        publishRaw: (body, headers) =>
          confirmed((done) => raw.sendToQueue(queue, Buffer.from(body), { headers }, done)),
        async startConsumer(handler) {
          await channel.prefetch(50);
          await channel.consume(queue, (msg) => msg && handler(msg.content.toString()));
        },
        async close() {
          await channel.deleteQueue(queue).catch(() => {});
          await connection.close().catch(() => {});
        },
      };
    },
  });
});
