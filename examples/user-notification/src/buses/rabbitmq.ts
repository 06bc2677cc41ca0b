import { healthOf, traceProducer } from '@baton/amqplib';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { BusFactoryOptions, DemoBus } from '../bus.js';
import { consumeQueue, type QueueConsumer, type Subscription } from './rabbitmq-queues.js';

export { MAX_DELIVERIES, rejectionsFrom } from './rabbitmq-queues.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672'; // `docker compose up -d rabbitmq`
// A lost connection is opened again after 1 s, then 2, 4, 8, 10, 10... as a service would.
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 10_000;

/** One connection and what lives on it; a reconnect makes a new one. */
interface Session {
  connection: ChannelModel;
  producer: ConfirmChannel;
  consumers: QueueConsumer[];
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The demo bus over RabbitMQ (amqplib wrapped by @baton/amqplib):
 * - one topic exchange per run, named after the namespace; events are routing keys;
 * - one queue per (service group, event), `<namespace>.<group>.<event>`, bound to it, with
 *   a retry queue and a parking queue (see rabbitmq-queues.ts);
 * - one connection per service, named `<namespace>.<service>` (`rabbitmqctl
 *   list_connections name` shows it). When the broker closes it or the network drops it,
 *   the bus says so on stderr, reports it through `health()`, and connects again with a
 *   backoff, re-creating its channels and consumers; publishes fail until then.
 * The URL comes from `AMQP_URL` (default 127.0.0.1:5672); when nothing answers at start,
 * this rejects at once with a one-line reason.
 */
export async function createRabbitMqBus(options: BusFactoryOptions): Promise<DemoBus> {
  const url = process.env.AMQP_URL || DEFAULT_URL;
  const exchange = options.namespace;
  const retryExchange = `${options.namespace}.retry`;
  const subscriptions: Subscription[] = [];
  const inFlight = new Set<Promise<void>>();
  let session: Session | undefined;
  // While reconnecting: the lost session, whose consumers' health tells what happened.
  let lost: Session | undefined;
  let connectionError: string | undefined;
  let closing = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  const contextOf = ({ connection, producer }: Omit<Session, 'consumers'>) => ({
    connection,
    namespace: options.namespace,
    exchange,
    retryExchange,
    producer,
    closing: () => closing,
    inFlight,
  });

  const open = async (): Promise<Session> => {
    const connection = await amqp.connect(url, {
      noDelay: true,
      clientProperties: { connection_name: `${options.namespace}.${options.service}` },
    });
    // amqplib reports a lost connection as an 'error' event; without a listener it would
    // crash the service. Its 'close' event (below) handles the loss.
    connection.on('error', () => {});
    try {
      const producer: ConfirmChannel = traceProducer(await connection.createConfirmChannel(), {
        // Time in queue needs the opt-in publish-time header (see "RabbitMQ's 64-byte cliff").
        publishTimeHeader: true,
      });
      await producer.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
      await producer.assertExchange(retryExchange, 'direct', { durable: false, autoDelete: true });
      const opened: Session = { connection, producer, consumers: [] };
      for (const subscription of subscriptions) {
        opened.consumers.push(await consumeQueue(contextOf(opened), subscription));
      }
      connection.once('close', (error?: unknown) => {
        if (!closing && session === opened) connectionLost(opened, error);
      });
      return opened;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  };

  const connectionLost = (from: Session, error: unknown) => {
    session = undefined;
    lost = from;
    connectionError = error === undefined ? 'connection closed' : reasonOf(error);
    process.stderr.write(`rabbitmq: connection lost: ${connectionError}; reconnecting\n`);
    reconnect(RECONNECT_FIRST_MS);
  };
  const reconnect = (delayMs: number) => {
    reconnectTimer = setTimeout(() => {
      open().then(
        (opened) => {
          if (closing) {
            void opened.connection.close().catch(() => {});
            return;
          }
          session = opened;
          lost = undefined;
          connectionError = undefined;
          process.stderr.write('rabbitmq: reconnected\n');
        },
        (error: unknown) => {
          connectionError = reasonOf(error);
          if (!closing) reconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS));
        },
      );
    }, delayMs);
  };

  session = await open().catch((error: Error) => {
    throw new Error(
      `no RabbitMQ answers at ${new URL(url).host} (${error.message}; set AMQP_URL, or run \`docker compose up -d rabbitmq\`)`,
    );
  });

  return {
    kind: 'rabbitmq',
    publish(event, payload) {
      const producer = session?.producer;
      if (producer === undefined) {
        return Promise.reject(new Error(`not connected to RabbitMQ (${connectionError})`));
      }
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
      const subscription = { event, group, handler };
      subscriptions.push(subscription);
      const current = session;
      if (current === undefined) return; // consumed once the connection is back
      current.consumers.push(await consumeQueue(contextOf(current), subscription));
    },
    async close() {
      closing = true;
      clearTimeout(reconnectTimer);
      const current = session;
      if (current === undefined) return;
      const { consumers, producer, connection } = current;
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
    health() {
      const consumers = (session ?? lost)?.consumers ?? [];
      return {
        connected: session !== undefined,
        ...(session === undefined && { connectionError: connectionError ?? 'not connected' }),
        consumers: consumers.flatMap(({ channel }) => healthOf(channel)),
      };
    },
  };
}
