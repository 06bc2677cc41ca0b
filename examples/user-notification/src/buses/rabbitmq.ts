import { traceChannel } from '@baton/amqplib';
import amqp, { type Channel, type ConfirmChannel } from 'amqplib';
import type { BusFactoryOptions, DemoBus, Payload } from '../bus.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672'; // `docker compose up -d rabbitmq`
const RETRY_DELAY_MS = 500;
const PREFETCH = 16;
// Demo queues vanish ten minutes after their last consumer, so runs leave nothing behind.
const QUEUE_EXPIRES_MS = 10 * 60_000;

/**
 * The demo bus over RabbitMQ (amqplib wrapped by @baton/amqplib):
 * - one topic exchange per run, named after the namespace; events are routing keys;
 * - one queue per (service group, event), `<namespace>.<group>.<event>`, bound to it;
 * - a handler that throws is retried: Baton's auto-ack mode nacks the delivery without
 *   requeue, the queue dead-letters it to a retry queue whose TTL sends it back after
 *   500 ms. The message keeps its headers, so the retry stays in the same trace, and its
 *   `x-death` count shows on the next process span.
 * The URL comes from `AMQP_URL` (default 127.0.0.1:5672); when nothing answers, this
 * rejects at once with a one-line reason.
 */
export async function createRabbitMqBus(options: BusFactoryOptions): Promise<DemoBus> {
  const url = process.env.AMQP_URL || DEFAULT_URL;
  const connection = await amqp.connect(url, { noDelay: true }).catch((error: Error) => {
    throw new Error(
      `no RabbitMQ answers at ${new URL(url).host} (${error.message}; set AMQP_URL, or run \`docker compose up -d rabbitmq\`)`,
    );
  });
  // amqplib reports a lost connection as an 'error' event; without a listener it would
  // crash the service. Log it on stderr, one line, and let the runner see the exit.
  connection.on('error', (error: Error) => {
    process.stderr.write(`rabbitmq: connection error: ${error.message}\n`);
  });
  const exchange = options.namespace;
  const retryExchange = `${options.namespace}.retry`;
  const producer: ConfirmChannel = traceChannel(await connection.createConfirmChannel());
  await producer.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
  await producer.assertExchange(retryExchange, 'direct', { durable: false, autoDelete: true });
  const consumers: Array<{ channel: Channel; tag: string }> = [];
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  return {
    kind: 'rabbitmq',
    publish(event, payload) {
      return new Promise<void>((resolve, reject) => {
        producer.publish(
          exchange,
          event,
          Buffer.from(JSON.stringify(payload)),
          { contentType: 'application/json' },
          (error) => (error ? reject(error) : resolve()),
        );
      });
    },
    async subscribe(event, group, handler) {
      const queue = `${options.namespace}.${group}.${event}`;
      const retryQueue = `${queue}.retry`;
      const channel = traceChannel(await connection.createChannel(), {
        ackMode: 'auto',
        failureMode: 'dead-letter',
        lagConnection: connection,
        lagIntervalMs: 2000,
      });
      await channel.assertQueue(queue, {
        durable: false,
        arguments: {
          'x-expires': QUEUE_EXPIRES_MS,
          'x-dead-letter-exchange': retryExchange,
          'x-dead-letter-routing-key': queue,
        },
      });
      await channel.assertQueue(retryQueue, {
        durable: false,
        arguments: {
          'x-expires': QUEUE_EXPIRES_MS,
          'x-message-ttl': RETRY_DELAY_MS,
          'x-dead-letter-exchange': '', // the default exchange routes by queue name
          'x-dead-letter-routing-key': queue,
        },
      });
      await channel.bindQueue(queue, exchange, event);
      await channel.bindQueue(retryQueue, retryExchange, queue);
      await channel.prefetch(PREFETCH);
      const { consumerTag } = await channel.consume(queue, (msg) => {
        if (!msg || closing) return;
        // Returned to Baton, which acks on success and dead-letters (retries) on a throw.
        const handled = handler(JSON.parse(msg.content.toString()) as Payload);
        inFlight.add(handled);
        return handled.finally(() => inFlight.delete(handled));
      });
      consumers.push({ channel, tag: consumerTag });
    },
    async close() {
      closing = true;
      await Promise.all(consumers.map(({ channel, tag }) => channel.cancel(tag)));
      await Promise.allSettled([...inFlight]);
      await producer.waitForConfirms().catch(() => {});
      // Closing the connection closes its channels (unacked deliveries go back to the queue).
      await connection.close();
    },
  };
}
