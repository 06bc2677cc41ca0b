import { type ConsumerHealth, MessagingTelemetry, type Override, viewOf } from '@baton/core';
import { diag } from '@opentelemetry/api';
import { serverOf, watchConnectionClose } from './connection.js';
import { createConsumer, type RawConsumerChannel } from './consumer.js';
import { ChannelHealth } from './health.js';
import { monitorQueueLag, type QueueLagMonitor } from './lag.js';
import { resolveAmqplibOptions } from './options.js';
import { createProducer, type RawProducerChannel } from './producer.js';
import { createReceive } from './receive.js';
import { Settler } from './settle.js';
import type {
  AmqpChannelLike,
  AmqplibConsumerOptions,
  AmqplibOptions,
  AmqplibProducerOptions,
} from './types.js';

export const PACKAGE_NAME = '@baton/amqplib';
export const PACKAGE_VERSION = '0.1.0';

type RawChannel = RawProducerChannel &
  RawConsumerChannel & {
    waitForConfirms?: unknown;
    on?: (event: string, listener: () => void) => unknown;
  };

/** What a traced channel already has: a traced producer side, a traced consumer side. */
interface Layers {
  producer: boolean;
  consumer: ChannelHealth | undefined;
}
const layers = new WeakMap<object, Layers>();

export function createTelemetry(options: object | undefined): MessagingTelemetry {
  return new MessagingTelemetry({ name: PACKAGE_NAME, version: PACKAGE_VERSION }, options);
}

function isChannel(channel: unknown, entry: string): channel is object {
  if (channel !== null && typeof channel === 'object') return true;
  diag.warn(`${PACKAGE_NAME}: ${entry}() needs an amqplib channel; returning it untraced`);
  return false;
}

// The same channel, typed as the caller's, with some methods traced; every other member
// is the original's, run on the original (so composed wrappers stack). Never modified.
function withOverrides<C extends object>(
  channel: C,
  candidates: Record<string, unknown>,
  added: Partial<Layers>,
): C {
  const overrides: Record<string, Override> = {};
  for (const [name, traced] of Object.entries(candidates)) {
    if (typeof (channel as Record<string, unknown>)[name] === 'function') {
      overrides[name] = traced as Override;
    }
  }
  const proxy = viewOf(channel, overrides);
  const below = layers.get(channel);
  layers.set(proxy, {
    producer: added.producer ?? below?.producer ?? false,
    consumer: added.consumer ?? below?.consumer,
  });
  return proxy;
}

/**
 * Traces a channel's `publish` and `sendToQueue` (amqplib 0.10, 1.x, 2.x; promise or
 * callback API; channel or confirm channel): each is a `send` span whose context, with the
 * correlation id and baggage, travels in a copy of the message's headers. Returns the same
 * channel, typed as yours (a view: the channel object is never modified); every other
 * member is the original's. Composes with {@link traceConsumer} in either order.
 *
 * @example
 * const producer = traceProducer(await connection.createConfirmChannel());
 * producer.publish('users', 'user.created', Buffer.from(json)); // carries the trace
 */
export function traceProducer<C extends AmqpChannelLike>(
  channel: C,
  options?: AmqplibProducerOptions,
): C {
  if (!isChannel(channel, 'traceProducer')) return channel;
  // Tracing twice would record every span twice.
  if (layers.get(channel)?.producer) return channel;
  const telemetry = createTelemetry(options);
  const { stampTimeHeader } = resolveAmqplibOptions(options, telemetry.diagnostics);
  const raw = channel as unknown as RawChannel;
  const producer = createProducer(raw, {
    telemetry,
    timeHeader: stampTimeHeader,
    confirm: typeof raw.waitForConfirms === 'function',
    server: serverOf(channel),
  });
  return withOverrides(channel, producer as unknown as Record<string, unknown>, {
    producer: true,
  });
}

/**
 * Traces a channel's consumer side: each delivery to a `consume` handler runs in a
 * `process` span in its producer's trace, `get` is a `receive` span, and `ack` / `nack` /
 * `reject` / `ackAll` / `nackAll` are recorded (and, with `ackMode: 'auto'`, sent for you).
 * `cancel` is traced too. Returns the same channel, typed as yours (a view: never
 * modified). Composes with {@link traceProducer} in either order; {@link healthOf} reads its
 * consumers' health.
 *
 * @example
 * const channel = traceConsumer(await connection.createChannel(), { ackMode: 'auto' });
 * await channel.consume('mailer', async (msg) => msg && sendWelcome(msg)); // acked on success
 */
export function traceConsumer<C extends AmqpChannelLike>(
  channel: C,
  options?: AmqplibConsumerOptions,
): C {
  if (!isChannel(channel, 'traceConsumer')) return channel;
  if (layers.get(channel)?.consumer !== undefined) return channel;
  const telemetry = createTelemetry(options);
  const resolved = resolveAmqplibOptions(options, telemetry.diagnostics);
  const raw = channel as unknown as RawChannel;
  const server = serverOf(channel);
  const health = new ChannelHealth();
  const consumed = new Map<string, number>();
  const settler = new Settler(
    raw,
    telemetry,
    () => (consumed.size === 1 ? (consumed.keys().next().value as string) : '*'),
    server,
  );
  let lag: QueueLagMonitor | undefined;
  const connection = watchConnectionClose(channel, (error) => health.closed(error));
  // A closed channel's unsettled deliveries are back in the broker: drop their records.
  raw.on?.('close', () => {
    settler.channelGone();
    lag?.stop();
    health.closed();
    // amqplib emits the connection's 'close' (with its reason) right after its channels'.
    queueMicrotask(() => connection.stop());
  });
  const startLag = (): QueueLagMonitor | undefined => {
    const lagConnection = options?.lagConnection;
    if (!lagConnection || typeof lagConnection.createChannel !== 'function') return undefined;
    return monitorQueueLag(telemetry, lagConnection, {
      intervalMs: options?.lagIntervalMs,
      onDepth: (queue, messages) => health.depth(queue, messages),
    });
  };
  const consumer = createConsumer(raw, {
    telemetry,
    settler,
    timeHeader: resolved.publishTimeHeader,
    ackMode: resolved.ackMode,
    failureMode: resolved.failureMode,
    maxDeliveries: resolved.maxDeliveries,
    server,
    onConsumer(queue, active, byBroker) {
      const count = (consumed.get(queue) ?? 0) + (active ? 1 : -1);
      if (count > 0) consumed.set(queue, count);
      else consumed.delete(queue);
      if (active) health.started(queue);
      else health.stopped(queue, byBroker);
      lag ??= startLag();
      lag?.track(queue, active);
    },
    onDelivery: (queue) => health.polled(queue),
  });
  const get = createReceive(raw, {
    telemetry,
    settler,
    timeHeader: resolved.publishTimeHeader,
    server,
    onReceive: (queue) => health.polled(queue),
  });
  return withOverrides(
    channel,
    {
      consume: consumer.consume,
      cancel: consumer.cancel,
      get,
      ack: settler.ack,
      nack: settler.nack,
      reject: settler.reject,
      ackAll: settler.ackAll,
      nackAll: settler.nackAll,
    },
    { consumer: health },
  );
}

/**
 * Traces both sides of a channel, the usual case (a channel both publishes and consumes):
 * the shortcut for `traceConsumer(traceProducer(channel, options), options)`.
 *
 * @example
 * const channel = traceChannel(await connection.createConfirmChannel());
 * channel.publish('users', 'user.created', Buffer.from(json)); // carries the trace
 * await channel.consume('notifications', (msg) => { handle(msg); channel.ack(msg); });
 */
export function traceChannel<C extends AmqpChannelLike>(channel: C, options?: AmqplibOptions): C {
  if (!isChannel(channel, 'traceChannel')) return channel;
  return traceConsumer(traceProducer(channel, options), options);
}

/**
 * The health of the consumers of a channel that {@link traceConsumer} (or
 * {@link traceChannel}) returned: one entry per consumed queue, for core's
 * `checkReadiness`. `running`: a consumer is on the queue and the channel is open;
 * `connected`: the channel (and its connection) is open; `lastPollAtMs`: the last delivery
 * or successful `get`; `lag`: the queue's depth when `lagConnection` is set; `lastError`:
 * why it stopped (a broker-forced close, a broker cancel). Empty for other channels.
 *
 * @example
 * const readiness = checkReadiness(healthOf(channel), { maxLag: 10_000 });
 */
export function healthOf(channel: object): ConsumerHealth[] {
  return layers.get(channel)?.consumer?.snapshot() ?? [];
}
