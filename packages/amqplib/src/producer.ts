import {
  activeContext,
  type MessagingTelemetry,
  methodOwner,
  type PublishDescription,
  runWithContext,
  suppressTracing,
} from '@baton/core';
import type { Context } from '@opentelemetry/api';
import {
  ATTR_ROUTING_KEY,
  publishDestination,
  type ServerAddress,
  SYSTEM,
  withServer,
} from './message.js';

type Callback = (...args: unknown[]) => unknown;
export type PublishOptions = { headers?: Record<string, unknown> | null; [key: string]: unknown };
type Write = (options: PublishOptions, callback: Callback | undefined) => boolean;

/** The channel methods the producer calls (amqplib's own, untouched). */
export interface RawProducerChannel {
  publish(
    exchange: string,
    routingKey: string,
    content: unknown,
    options?: PublishOptions,
    callback?: Callback,
  ): boolean;
  sendToQueue(
    queue: string,
    content: unknown,
    options?: PublishOptions,
    callback?: Callback,
  ): boolean;
}

/** Traced `publish` and `sendToQueue`, with amqplib's signatures and return values. */
export interface Producer {
  publish(
    exchange: string,
    routingKey: string,
    content: unknown,
    options?: PublishOptions | null,
    callback?: Callback,
  ): boolean;
  sendToQueue(
    queue: string,
    content: unknown,
    options?: PublishOptions | null,
    callback?: Callback,
  ): boolean;
}

const ignore = () => {};

/** What a publish hook gets as `info.message`: the publish as the application called it. */
export interface AmqpPublish {
  exchange: string;
  routingKey: string;
  content: unknown;
  options: Readonly<PublishOptions> | null | undefined;
}

export interface ProducerConfig {
  telemetry: MessagingTelemetry;
  timeHeader: string | false;
  /** A confirm channel: the send span ends on the broker's ack or nack. */
  confirm: boolean;
  server: () => ServerAddress | undefined;
}

export function createProducer(channel: RawProducerChannel, config: ProducerConfig): Producer {
  const { telemetry, timeHeader, confirm } = config;
  const describe = (
    exchange: string,
    routingKey: string,
    content: unknown,
    options: PublishOptions | null | undefined,
  ): PublishDescription => {
    const description: PublishDescription = {
      system: SYSTEM,
      destination: publishDestination(exchange, routingKey),
      headers: options?.headers,
    };
    if (routingKey !== '') description.attributes = { [ATTR_ROUTING_KEY]: routingKey };
    const messageId = options?.messageId;
    if (typeof messageId === 'string') description.messageId = messageId;
    // AMQP's own conversation id; Baton reads it and never changes it.
    const conversationId = options?.correlationId;
    if (typeof conversationId === 'string' && conversationId !== '') {
      description.conversationId = conversationId;
    }
    if (timeHeader) description.publishTimeHeader = timeHeader;
    withServer(description, config.server());
    // Only a hook reads it: no object per publish without one.
    if (telemetry.options.publishHook !== undefined) {
      description.message = { exchange, routingKey, content, options } satisfies AmqpPublish;
    }
    return description;
  };

  // amqplib reads the options once per call; a copy keeps the caller's object untouched.
  const withHeaders = (
    options: PublishOptions | null | undefined,
    headers: Record<string, unknown>,
  ): PublishOptions => {
    // Core stamps a string; the message-timestamp plugin's header is an integer.
    if (timeHeader && typeof headers[timeHeader] === 'string') {
      if (options?.headers?.[timeHeader] === undefined) {
        headers[timeHeader] = Number(headers[timeHeader]);
      }
    }
    return options ? { ...options, headers } : { headers };
  };

  // amqplib's sendToQueue calls `this.publish`, and a confirm channel's publish calls the
  // plain one: OpenTelemetry's contrib instrumentation wraps `publish` (on both prototypes),
  // so `publish` tells for both methods whether a call makes a span of its own.
  const coexistence = () =>
    telemetry.coexistenceOf((methodOwner(channel, 'publish') as RawProducerChannel).publish);

  const send = (
    exchange: string,
    routingKey: string,
    content: unknown,
    options: PublishOptions | null | undefined,
    callback: Callback | undefined,
    given: Write,
  ): boolean => {
    const description = describe(exchange, routingKey, content, options);
    const mode = coexistence();
    let write = given;
    if (mode === 'contrib') description.recordedByContrib = 'span';
    else if (mode === 'baton') {
      // Not the unwrapped function: amqplib's own super.publish / this.publish would
      // re-enter the wrapper. Suppressed, the wrapper's span does not record and its
      // propagator injects nothing: Baton's traceparent is the one sent.
      write = (opts, cb) => runWithContext(suppressTracing(activeContext()), given, opts, cb);
    }
    if (!confirm) {
      return telemetry.publish(description, (headers) =>
        write(withHeaders(options, headers), callback),
      );
    }
    // The confirmation runs the caller's callback in the caller's context (amqplib would
    // run it in its socket's; a wrapper in a suppressed one).
    const caller: Context = activeContext();
    // On a confirm channel the send span ends when the broker acks or nacks (a nack is
    // an error); the caller still gets the client's boolean at once, for back-pressure.
    let written = false;
    const confirmed = telemetry.publish(description, (headers) => {
      let settle: (error: unknown) => void = ignore;
      const outcome = new Promise<void>((resolve, reject) => {
        settle = (error) => (error == null ? resolve() : reject(error));
      });
      written = write(withHeaders(options, headers), (...args: unknown[]) => {
        settle(args[0]);
        if (typeof callback === 'function') return runWithContext(caller, callback, ...args);
      });
      return outcome;
    });
    // The nack reaches the caller through its own callback; this copy only ends the span.
    if (confirmed && typeof confirmed.then === 'function') confirmed.then(ignore, ignore);
    return written;
  };

  return {
    publish: (exchange, routingKey, content, options, callback) =>
      send(exchange, routingKey, content, options, callback, (opts, cb) =>
        channel.publish(exchange, routingKey, content, opts, cb),
      ),
    sendToQueue: (queue, content, options, callback) =>
      send('', queue, content, options, callback, (opts, cb) =>
        channel.sendToQueue(queue, content, opts, cb),
      ),
  };
}
