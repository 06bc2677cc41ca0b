import { MessagingTelemetry } from '@baton/core';
import { diag } from '@opentelemetry/api';
import { type Consumer, createConsumer, type RawConsumerChannel } from './consumer.js';
import { monitorQueueLag, type QueueLagMonitor } from './lag.js';
import { DEFAULT_PUBLISH_TIME_HEADER } from './message.js';
import { createProducer, type Producer, type RawProducerChannel } from './producer.js';
import { Settler } from './settle.js';
import type {
  AckMode,
  AmqpChannelLike,
  AmqplibOptions,
  ConsumerErrorInfo,
  FailureMode,
} from './types.js';

const PACKAGE_NAME = '@baton/amqplib';
const PACKAGE_VERSION = '0.1.0';

/** The defaults of the options {@link traceChannel} adds to `BatonOptions`. */
export const DEFAULT_AMQPLIB_OPTIONS = Object.freeze({
  ackMode: 'manual' as AckMode,
  failureMode: 'requeue' as FailureMode,
  maxDeliveries: 5,
  publishTimeHeader: DEFAULT_PUBLISH_TIME_HEADER as string | false,
});

type RawChannel = RawProducerChannel &
  RawConsumerChannel & {
    waitForConfirms?: unknown;
    on?: (event: string, listener: () => void) => unknown;
  };

type Overrides = Producer &
  Consumer &
  Pick<Settler, 'ack' | 'nack' | 'reject' | 'ackAll' | 'nackAll'>;

interface Resolved {
  ackMode: AckMode;
  failureMode: FailureMode;
  maxDeliveries: number;
  publishTimeHeader: string | false;
  report: (error: unknown, info: ConsumerErrorInfo) => void;
}

const WHAT_FAILED: Record<ConsumerErrorInfo['operation'], string> = {
  handle: 'a handler failed',
  ack: 'an ack could not be sent',
  requeue: 'a requeue could not be sent',
  'dead-letter': 'a dead-letter (reject without requeue) could not be sent',
};
const warned = new Set<ConsumerErrorInfo['operation']>();

// Without onError: one diag warning per kind of failure, never one per message.
function reportThroughDiag(error: unknown, info: ConsumerErrorInfo): void {
  if (warned.has(info.operation)) return;
  warned.add(info.operation);
  diag.warn(
    `${PACKAGE_NAME}: ${WHAT_FAILED[info.operation]} on queue ${info.queue} (reported once; pass onError to traceChannel to see every failure)`,
    error,
  );
}

function resolveReport(onError: NonNullable<AmqplibOptions['onError']>): Resolved['report'] {
  return (error, info) => {
    try {
      onError(error, info);
    } catch {
      // The application's reporter failed; consuming goes on regardless.
    }
  };
}

function resolve(options: AmqplibOptions | undefined): Resolved {
  const resolved: Resolved = { ...DEFAULT_AMQPLIB_OPTIONS, report: reportThroughDiag };
  if (!options || typeof options !== 'object') return resolved;
  const warn = (name: string, value: unknown) =>
    diag.warn(
      `${PACKAGE_NAME}: ignoring invalid option ${name}=${String(value)}; using the default`,
    );
  if (options.ackMode !== undefined) {
    if (options.ackMode === 'manual' || options.ackMode === 'auto') {
      resolved.ackMode = options.ackMode;
    } else warn('ackMode', options.ackMode);
  }
  if (options.failureMode !== undefined) {
    if (options.failureMode === 'requeue' || options.failureMode === 'dead-letter') {
      resolved.failureMode = options.failureMode;
    } else warn('failureMode', options.failureMode);
  }
  const max = options.maxDeliveries;
  if (max !== undefined) {
    if (max === Infinity || (typeof max === 'number' && Number.isInteger(max) && max > 0)) {
      resolved.maxDeliveries = max;
    } else warn('maxDeliveries', max);
  }
  if (options.onError !== undefined) {
    if (typeof options.onError === 'function') resolved.report = resolveReport(options.onError);
    else warn('onError', options.onError);
  }
  const header = options.publishTimeHeader;
  if (header !== undefined) {
    if (header === false || (typeof header === 'string' && header !== '')) {
      resolved.publishTimeHeader = header;
    } else warn('publishTimeHeader', header);
  }
  return resolved;
}

const tracedChannels = new WeakSet<object>();

/**
 * Wraps an amqplib channel or confirm channel (0.10, 1.x, 2.x; promise or callback API)
 * once. The returned channel is the same channel with traced `publish`, `sendToQueue`,
 * `consume`, `get`, `cancel`, `ack`, `nack`, `reject`, `ackAll` and `nackAll`; every other
 * member is the original's. The original channel object is not modified.
 *
 * @example
 * const channel = traceChannel(await connection.createConfirmChannel());
 * channel.publish('users', 'user.created', Buffer.from(json)); // carries the trace
 * await channel.consume('notifications', (msg) => { handle(msg); channel.ack(msg); });
 */
export function traceChannel<C extends AmqpChannelLike>(channel: C, options?: AmqplibOptions): C {
  if (channel === null || typeof channel !== 'object') {
    diag.warn(`${PACKAGE_NAME}: traceChannel() needs an amqplib channel; returning it untraced`);
    return channel;
  }
  // Wrapping twice would record every span twice.
  if (tracedChannels.has(channel)) return channel;
  const resolved = resolve(options);
  const telemetry = new MessagingTelemetry(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    options,
  );
  const raw = channel as unknown as RawChannel;
  const consumed = new Map<string, number>();
  const settler = new Settler(raw, telemetry, () =>
    consumed.size === 1 ? (consumed.keys().next().value as string) : '*',
  );
  // A closed channel's unsettled deliveries are back in the broker: drop their records.
  raw.on?.('close', () => settler.channelGone());
  let lag: QueueLagMonitor | undefined;
  const startLag = (): QueueLagMonitor | undefined => {
    const connection = options?.lagConnection;
    if (!connection || typeof connection.createChannel !== 'function') return undefined;
    const monitor = monitorQueueLag(telemetry, connection, options?.lagIntervalMs);
    raw.on?.('close', () => monitor.stop());
    return monitor;
  };
  const consumer = createConsumer(raw, {
    telemetry,
    settler,
    timeHeader: resolved.publishTimeHeader,
    ackMode: resolved.ackMode,
    failureMode: resolved.failureMode,
    maxDeliveries: resolved.maxDeliveries,
    report: resolved.report,
    onConsumer(queue, active) {
      const count = (consumed.get(queue) ?? 0) + (active ? 1 : -1);
      if (count > 0) consumed.set(queue, count);
      else consumed.delete(queue);
      lag ??= startLag();
      lag?.track(queue, active);
    },
  });
  const producer = createProducer(
    raw,
    telemetry,
    resolved.publishTimeHeader,
    typeof raw.waitForConfirms === 'function',
  );
  const candidates: Overrides = {
    publish: producer.publish,
    sendToQueue: producer.sendToQueue,
    consume: consumer.consume,
    get: consumer.get,
    cancel: consumer.cancel,
    ack: settler.ack,
    nack: settler.nack,
    reject: settler.reject,
    ackAll: settler.ackAll,
    nackAll: settler.nackAll,
  };
  const overrides = new Map<PropertyKey, unknown>();
  for (const [name, traced] of Object.entries(candidates)) {
    if (typeof (raw as unknown as Record<string, unknown>)[name] === 'function') {
      overrides.set(name, traced);
    }
  }
  // Other methods run on the original channel, as if called on it directly.
  const bound = new WeakMap<object, unknown>();
  const proxy = new Proxy(channel, {
    get(target, property) {
      const traced = overrides.get(property);
      if (traced !== undefined) return traced;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(value);
      if (fn === undefined) {
        fn = value.bind(target);
        bound.set(value, fn);
      }
      return fn;
    },
  });
  tracedChannels.add(proxy);
  return proxy;
}
