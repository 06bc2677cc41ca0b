import { type AmqplibErrorInfo, traceConsumer } from '@baton/amqplib';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Payload } from '../bus.js';

const RETRY_DELAY_MS = 500;
const PREFETCH = 16;
// Deliveries of one message before it is parked in `<queue>.dead` (as the Redis bus does).
export const MAX_DELIVERIES = 5;
// Demo queues vanish ten minutes after their last consumer, so runs leave nothing behind.
const QUEUE_EXPIRES_MS = 10 * 60_000;

/** One `subscribe` of the bus, kept to consume again after a reconnect. */
export interface Subscription {
  event: string;
  group: string;
  handler: (payload: Payload) => Promise<void>;
}

/** A consumer started by {@link consumeQueue}: its traced channel and consumer tag. */
export interface QueueConsumer {
  channel: Channel;
  tag: string;
}

/** What {@link consumeQueue} needs besides the subscription. */
export interface ConsumeContext {
  connection: ChannelModel;
  namespace: string;
  exchange: string;
  retryExchange: string;
  producer: ConfirmChannel;
  /** True once the bus is closing: deliveries go back to the queue unhandled. */
  closing: () => boolean;
  /** Handlings in flight, for close() to wait for. */
  inFlight: Set<Promise<void>>;
}

// Baton reports settles it could not send (the connection went): those messages come back.
const onError = (error: unknown, info: AmqplibErrorInfo) => {
  if (info.operation === 'process') return; // the services log their own failures
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`rabbitmq: ${info.operationName} failed on ${info.queue}: ${reason}\n`);
};

/**
 * Declares a subscription's queues (`<namespace>.<group>.<event>`, its retry queue and its
 * parking queue), binds them, and consumes on a new traced channel of `connection`. A
 * handler that throws is retried through the retry queue; the delivery that fails for the
 * {@link MAX_DELIVERIES}th time is parked in `<queue>.dead`.
 */
export async function consumeQueue(
  context: ConsumeContext,
  { event, group, handler }: Subscription,
): Promise<QueueConsumer> {
  const { connection, producer, inFlight } = context;
  const queue = `${context.namespace}.${group}.${event}`;
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
      'x-dead-letter-exchange': context.retryExchange,
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
  await channel.bindQueue(queue, context.exchange, event);
  await channel.bindQueue(retryQueue, context.retryExchange, queue);
  await channel.prefetch(PREFETCH);
  // A confirmed copy of a message that failed too often, in the queue's parking queue.
  const park = (msg: ConsumeMessage) =>
    new Promise<void>((resolve, reject) => {
      producer.sendToQueue(deadQueue, msg.content, msg.properties, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  const handleCapped = async (msg: ConsumeMessage) => {
    const delivery = rejectionsFrom(msg, queue) + 1;
    try {
      await handler(JSON.parse(msg.content.toString()) as Payload);
    } catch (error) {
      if (delivery < MAX_DELIVERIES) throw error; // to the retry queue
      await park(msg); // a failed park rethrows: the message is retried
      const span = trace.getActiveSpan();
      if (error instanceof Error) span?.recordException(error);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: `parked in ${deadQueue}` });
    }
  };
  const { consumerTag } = await channel.consume(queue, (msg) => {
    if (!msg) return;
    // Arrived as the bus closes: back to the queue, unhandled (settled here, so Baton
    // does not ack it as if it had been handled).
    if (context.closing()) return channel.nack(msg, false, true);
    // Returned to Baton, which acks on success and dead-letters (retries) on a throw.
    const handled = handleCapped(msg);
    inFlight.add(handled);
    return handled.finally(() => inFlight.delete(handled));
  });
  return { channel, tag: consumerTag };
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
