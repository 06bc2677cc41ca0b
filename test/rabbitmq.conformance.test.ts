import { type AckMode, traceChannel } from '@baton/amqplib';
import { runConformanceSuite } from '@baton/testing/conformance';
import amqp from 'amqplib';
import { describe } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');

// Manual mode settles as a careful application does: ack after the handler, nack with
// requeue when it throws (and let the failure reach Baton). Auto mode leaves it to Baton.
// Either way a failed delivery comes back: 'redeliver'.
describe.skipIf(!url).each<AckMode>(['manual', 'auto'])('RabbitMQ, ackMode %s', (ackMode) => {
  runConformanceSuite({
    name: `@baton/amqplib (ackMode ${ackMode})`,
    onHandlerError: 'redeliver',
    messageCount: 500,
    // An AMQP header table holds each key once; its repeated form is a field array.
    capabilities: { publishRepeated: true },
    async createHarness(options) {
      const connection = await amqp.connect(url as string);
      const raw = await connection.createConfirmChannel();
      // Time in queue on RabbitMQ needs the publish-time header, which is opt-in.
      const channel = traceChannel(raw, { ...options, ackMode, publishTimeHeader: true });
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
        publishRepeated: (body, headers) => {
          const arrays = Object.fromEntries(
            Object.entries(headers).map(([key, values]) => [key, [...values]]),
          );
          return confirmed((done) =>
            raw.sendToQueue(queue, Buffer.from(body), { headers: arrays }, done),
          );
        },
        async startConsumer(handler) {
          await channel.prefetch(50);
          await channel.consume(queue, async (msg) => {
            if (!msg) return;
            if (ackMode === 'auto') return handler(msg.content.toString());
            try {
              await handler(msg.content.toString());
            } catch (error) {
              channel.nack(msg, false, true);
              throw error;
            }
            channel.ack(msg);
          });
        },
        async close() {
          await channel.deleteQueue(queue).catch(() => {});
          await connection.close().catch(() => {});
        },
      };
    },
  });
});
