import type {
  Attributes,
  Context,
  Link,
  MeterProvider,
  Span,
  TextMapPropagator,
  TracerProvider,
} from '@opentelemetry/api';
import type { HeaderCarrier } from './carrier.js';
import type { SemconvStability } from './semconv.js';

/**
 * How a single message's `process` span relates to the message's creation context.
 * - `'parent'`: the process span is a child of the producer's span, so the asynchronous
 *   chain is one trace (the default). An ambient active span becomes a link.
 * - `'link'`: the process span starts a new trace with a link to the producer, and the
 *   incoming baggage is not trusted (use at trust boundaries).
 */
export type ConsumerSpanRelation = 'parent' | 'link';

/**
 * The neutral description of one message that every adapter gives core. Adapters fill in
 * what their bus knows; core turns it into spans, attributes, metrics and context.
 */
export interface MessageDescription {
  /** `messaging.system`, e.g. `'kafka'`, `'rabbitmq'`, `'redis'`. */
  system: string;
  /** `messaging.destination.name`: topic, exchange:routing key, stream, queue or event. */
  destination: string;
  /** `messaging.operation.name`, e.g. `'send'`, `'publish'`, `'process'`. Defaults per operation. */
  operationName?: string;
  /** The message's headers: the carrier to read context from (consume) or to copy (publish). */
  headers?: HeaderCarrier;
  /**
   * The creation context, when the message travels in-process as an object and no
   * serialization is needed. Takes precedence over `headers` when consuming.
   */
  context?: Context;
  /** `messaging.message.id`. */
  messageId?: string;
  /** `messaging.destination.partition.id`. */
  partition?: string | number;
  /** `messaging.consumer.group.name`. */
  consumerGroup?: string;
  /** When the message was created, in ms since the epoch (the bus's native timestamp). */
  timestampMs?: number;
  /** How many times the message has been delivered, 1 for the first delivery. */
  deliveryCount?: number;
  /** `server.address`. */
  serverAddress?: string;
  /** `server.port`. */
  serverPort?: number;
  /**
   * Extra span attributes (bus specific), written with the established semconv names
   * (`messaging.kafka.*`, `messaging.rabbitmq.*`); core renames them per stability mode.
   */
  attributes?: Attributes;
}

/** Options for one publish call. */
export interface PublishDescription extends MessageDescription {
  /** Number of messages in this call; sets `messaging.batch.message_count` when it is not 1. */
  messageCount?: number;
  /**
   * When the caller's headers already carry a valid `traceparent`, keep it (it is the
   * user's own creation context) and link the send span to it instead of overwriting it.
   * @defaultValue false
   */
  preserveExistingContext?: boolean;
  /**
   * Set `false` when the message travels in-process with its context as an object: no
   * headers are injected (`send` receives an empty frozen object) and `send` is not run
   * inside the send span's context, which it receives as its third argument instead.
   * @defaultValue true
   */
  injectHeaders?: boolean;
  /**
   * Links to the creation contexts of the messages of this call (a batch whose messages
   * have their own create spans or carried their own `traceparent`), set at span start.
   */
  links?: Link[];
  /**
   * Header to stamp with the publish time in ms (for buses without a native ms timestamp),
   * unless the caller already set it.
   */
  publishTimeHeader?: string;
}

/** What a `publishHook` is told. */
export interface PublishHookInfo {
  readonly description: PublishDescription;
  /** The headers as they will be sent (a copy; changes are sent too). */
  readonly headers: Record<string, unknown>;
}

/** What a `consumeHook` is told. */
export interface ConsumeHookInfo {
  readonly description: MessageDescription;
}

/** Called with the send span before the client is called. Errors are caught and reported. */
export type PublishHook = (span: Span, info: PublishHookInfo) => void;
/** Called with the process span before the handler runs. Errors are caught and reported. */
export type ConsumeHook = (span: Span, info: ConsumeHookInfo) => void;

/** Options shared by every Baton adapter. Every option is optional. */
export interface BatonOptions {
  /** Where spans go. @defaultValue the global tracer provider */
  tracerProvider?: TracerProvider;
  /** Where metrics go. @defaultValue the global meter provider */
  meterProvider?: MeterProvider;
  /** Propagator for trace context and baggage. @defaultValue W3C Trace Context + Baggage */
  propagator?: TextMapPropagator;
  /** See {@link ConsumerSpanRelation}. @defaultValue 'parent' */
  consumerSpanRelation?: ConsumerSpanRelation;
  /** Runs on every send span; errors are isolated. */
  publishHook?: PublishHook;
  /** Runs on every process span; errors are isolated. */
  consumeHook?: ConsumeHook;
  /** Emit metrics. @defaultValue true */
  metrics?: boolean;
  /**
   * Attribute names to emit. @defaultValue from `OTEL_SEMCONV_STABILITY_OPT_IN`
   * (`messaging` -> 'stable', `messaging/dup` -> 'dup', else 'old')
   */
  semconvStability?: SemconvStability;
}

/** A lag reading for `baton.consumer.lag` (or `baton.consumer.pending`). */
export interface LagSample {
  /** Which gauge: the backlog not yet processed, or delivered-but-unacknowledged. @defaultValue 'lag' */
  kind?: 'lag' | 'pending';
  destination: string;
  consumerGroup?: string;
  partition?: string | number;
  /** Messages. */
  value: number;
}
