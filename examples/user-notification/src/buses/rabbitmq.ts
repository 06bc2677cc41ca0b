import { type AmqplibErrorInfo, traceConsumer, traceProducer } from '@baton/amqplib';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import amqp, { type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { BusFactoryOptions, DemoBus, Payload } from '../bus.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672'; // `docker compose up -d rabbitmq`
const RETRY_DELAY_MS = 500;
const PREFETCH = 16;
// Deliveries of one message before it is parked in `<queue>.dead` (as the Redis bus does).
export const MAX_DELIVERIES = 5;
// Demo queues vanish ten minutes after their last consumer, so runs leave nothing behind.
const QUEUE_EXPIRES_MS = 10 * 60_000;

/**
 * The demo bus over RabbitMQ (amqplib wrapped by @baton/amqplib):
 * - one topic exchange per run, named after the namespace; events are routing keys;
 * - one queue per (service group, event), `<namespace>.<group>.<event>`, bound to it;
 * - a handler that throws is retried: Baton's auto-ack mode nacks the delivery without
 *   requeue, the queue dead-letters it to a retry queue whose TTL sends it back after
 *   500 ms. The message keeps its headers, so the retry stays in the same trace, and its
 *   `x-death` count shows on the next process span;
 * - that loop is capped: the broker counts a message's rejections from the queue in its
 *   `x-death` header, and the delivery that fails for the {@link MAX_DELIVERIES}th time is
 *   parked, byte-identical with its properties, in `<queue>.dead` (publish confirmed, then
 *   the original acked), so a poison message cannot cycle forever.
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
  const producer: ConfirmChannel = traceProducer(await connection.createConfirmChannel());
  await producer.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
  await producer.assertExchange(retryExchange, 'direct', { durable: false, autoDelete: true });
  const consumers: Array<{ channel: Channel; tag: string }> = [];
  // Baton reports settles it could not send (the connection went): those messages come back.
  const onError = (error: unknown, info: AmqplibErrorInfo) => {
    if (info.operation === 'process') return; // the services log their own failures
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`rabbitmq: ${info.operationName} failed on ${info.queue}: ${reason}\n`);
  };
  // A confirmed copy of a message that failed too often, in the queue's parking queue.
  const park = (msg: ConsumeMessage, deadQueue: string) =>
    new Promise<void>((resolve, reject) => {
      producer.sendToQueue(deadQueue, msg.content, msg.properties, (error) =>
        error ? reject(error) : resolve(),
      );
    });
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
      const deadQueue = `${queue}.dead`;
      const channel = traceConsumer(await connection.createChannel(), {
        ackMode: 'auto',
        failureMode: 'dead-letter',
        onError,
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
      await channel.assertQueue(deadQueue, {
        durable: false,
        arguments: { 'x-expires': QUEUE_EXPIRES_MS },
      });
      await channel.bindQueue(queue, exchange, event);
      await channel.bindQueue(retryQueue, retryExchange, queue);
      await channel.prefetch(PREFETCH);
      const handleCapped = async (msg: ConsumeMessage) => {
        const delivery = rejectionsFrom(msg, queue) + 1;
        try {
          await handler(JSON.parse(msg.content.toString()) as Payload);
        } catch (error) {
          if (delivery < MAX_DELIVERIES) throw error; // to the retry queue
          await park(msg, deadQueue); // a failed park rethrows: the message is retried
          const span = trace.getActiveSpan();
          if (error instanceof Error) span?.recordException(error);
          span?.setStatus({ code: SpanStatusCode.ERROR, message: `parked in ${deadQueue}` });
        }
      };
      const { consumerTag } = await channel.consume(queue, (msg) => {
        if (!msg) return;
        // Arrived as the bus closes: back to the queue, unhandled (settled here, so Baton
        // does not ack it as if it had been handled).
        if (closing) return channel.nack(msg, false, true);
        // Returned to Baton, which acks on success and dead-letters (retries) on a throw.
        const handled = handleCapped(msg);
        inFlight.add(handled);
        return handled.finally(() => inFlight.delete(handled));
      });
      consumers.push({ channel, tag: consumerTag });
    },
    async close() {
      closing = true;
      await Promise.all(consumers.map(({ channel, tag }) => channel.cancel(tag)));
      await Promise.allSettled([...inFlight]);
      // Baton writes each ack in the promise reactions that follow its handler's promise:
      // they have all run once the next macrotask starts. Only then may the connection go.
      await new Promise((resolve) => setImmediate(resolve));
      // Each channel's close goes out after its acks; a connection close alone can overtake
      // acks still queued in amqplib, and RabbitMQ would deliver those messages again.
      await Promise.all(consumers.map(({ channel }) => channel.close().catch(() => {})));
      await producer.waitForConfirms().catch(() => {});
      await connection.close();
    },
  };
}

/** How often the broker dead-lettered `msg` from `queue` as rejected (its `x-death` entry). */
export function rejectionsFrom(msg: ConsumeMessage, queue: string): number {
  const deaths: unknown = msg.properties.headers?.['x-death'];
  if (!Array.isArray(deaths)) return 0;
  for (const death of deaths as Array<Record<string, unknown>>) {
    if (!Object.hasOwn(death, 'queue') || !Object.hasOwn(death, 'count')) continue;
    if (death.queue === queue && death.reason === 'rejected') return Number(death.count) || 0;
  }
  return 0;
}
