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
import type { Coexistence, RecordedByContrib } from './coexistence.js';
import type { SemconvStability } from './semconv.js';

/**
 * How a single message's `process` span relates to the message's creation context. The
 * process span links the creation context either way (semconv: it SHOULD).
 * - `'parent'`: the process span is also a child of the producer's span, so the
 *   asynchronous chain is one trace (the default). An ambient active span becomes a link.
 * - `'link'`: the process span starts a new trace, and the incoming baggage is not
 *   trusted (use at trust boundaries).
 */
export type ConsumerSpanRelation = 'parent' | 'link';

/**
 * The neutral description of one message that every adapter gives core. Adapters fill in
 * what their bus knows; core turns it into spans, attributes, metrics and context.
 */
export interface MessageDescription {
  /** `messaging.system`, e.g. `'kafka'`, `'rabbitmq'`, `'redis'`. */
  system: string;
  /** `messaging.destination.name`: topic, exchange, stream, queue or event. */
  destination: string;
  /**
   * `messaging.destination.template`: a low-cardinality form of a destination that holds
   * ids (`user.{id}.created`). When set, span names and metric attributes use it instead
   * of the destination name, which stays on the span.
   */
  destinationTemplate?: string;
  /** `messaging.operation.name`, e.g. `'send'`, `'publish'`, `'process'`. Defaults per operation. */
  operationName?: string;
  /** The message's headers: the carrier to read context from (consume) or to copy (publish). */
  headers?: HeaderCarrier;
  /**
   * The creation context, when the message travels in-process as an object and no
   * serialization is needed. Takes precedence over `headers` when consuming.
   */
  context?: Context;
  /**
   * The client's own message object (an amqplib message, a kafkajs message, a stream
   * entry): what hooks receive as `info.message`, and the key of
   * {@link runInMessageContext} in a batch.
   */
  message?: unknown;
  /** `messaging.message.id`. */
  messageId?: string;
  /**
   * `messaging.message.conversation_id`: the bus's OWN conversation id, where it has one
   * (AMQP's `correlationId` property). Baton's correlation id is `baton.correlation_id`.
   */
  conversationId?: string;
  /** `messaging.destination.partition.id`. */
  partition?: string | number;
  /** `messaging.consumer.group.name`. */
  consumerGroup?: string;
  /**
   * Consumer side: the destination as the producer named it, when the bus names the two
   * sides differently (RabbitMQ). Core puts it, with the `destinationTemplate` option
   * applied, on the consumer's metrics as `baton.destination.published_name`.
   */
  publishedDestination?: string;
  /** When the message was created, in ms since the epoch (the bus's native timestamp). */
  timestampMs?: number;
  /** How many times the message has been delivered, 1 for the first delivery. */
  deliveryCount?: number;
  /** `server.address`. */
  serverAddress?: string;
  /** `server.port`. */
  serverPort?: number;
  /**
   * Set by an adapter when the user chose `coexistence: 'contrib'` and another
   * instrumentation wraps the client method of this operation (see
   * {@link RecordedByContrib}). Core then starts no span: the operation runs in the active
   * context (the other instrumentation's span) with Baton's correlation id and baggage,
   * headers are still injected, time in queue is still recorded, and the message counter
   * and duration only with `'span'`. Hooks are not called (there is no Baton span).
   */
  recordedByContrib?: RecordedByContrib;
  /**
   * Extra span attributes (bus specific), written with the established semconv names
   * (`messaging.kafka.*`, `messaging.rabbitmq.*`) or under `baton.*`; core renames the
   * semconv ones per stability mode.
   */
  attributes?: Attributes;
}

/**
 * What a send does to its messages' creation context.
 * - `'create'`: the send creates the messages, so its span is their creation context: a
 *   PRODUCER span whose context is injected into the headers (the default).
 * - `'transport'`: the messages were created elsewhere and keep the context they carry
 *   (per-message create spans, a dead-letter copy, a forwarded message): the send is a
 *   CLIENT span linked to those contexts, and the headers are sent as given.
 */
export type SendRole = 'create' | 'transport';

/** Options for one publish call. */
export interface PublishDescription extends MessageDescription {
  /** Number of messages in this call; sets `messaging.batch.message_count` when it is not 1. */
  messageCount?: number;
  /** See {@link SendRole}. @defaultValue 'create' */
  sendRole?: SendRole;
  /**
   * When the caller's headers already carry a valid `traceparent`, keep it (it is the
   * user's own creation context): the send span is then a CLIENT span linked to it.
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
  /**
   * Called with the recording send span and what `send` returned (or its promise resolved
   * to) just before the span ends, when the send succeeded: for attributes known only from
   * the broker's reply (a Redis entry id). Guarded: what it throws is reported, not thrown.
   */
  onSent?: (span: Span, result: unknown) => void;
}

/** What a `publishHook` is told. */
export interface PublishHookInfo {
  /** The destination the message is sent to. */
  readonly destination: string;
  /** The client's own message or record, as the application gave it. */
  readonly message: unknown;
  /** The headers as they will be sent (a copy; changes are sent too). */
  readonly headers: Record<string, unknown>;
  /** Baton's description of the send. */
  readonly description: PublishDescription;
}

/** What a `consumeHook` is told. */
export interface ConsumeHookInfo {
  /** The destination the message came from. */
  readonly destination: string;
  /** The client's own delivered message (or, for a batch, the batch). */
  readonly message: unknown;
  /** Baton's description of the delivery. */
  readonly description: MessageDescription;
}

/** Called with the send span before the client is called. Errors are caught and reported. */
export type PublishHook = (span: Span, info: PublishHookInfo) => void;
/** Called with the process span before the handler runs. Errors are caught and reported. */
export type ConsumeHook = (span: Span, info: ConsumeHookInfo) => void;

/** What an {@link OnError} listener is told about an error Baton saw but did not throw. */
export interface ErrorInfo {
  /**
   * What failed: `'process'` (the handler threw in a loop Baton runs), `'settle'` (an
   * ack/nack), `'dead-letter'`, `'receive'` (a read), or an adapter-specific operation.
   */
  readonly operation: string;
  /** The destination, when one is known. */
  readonly destination?: string;
  /** The client's own message, when the error concerns one. */
  readonly message?: unknown;
  /** Anything else the adapter knows (delivery count, consumer group, ...). */
  readonly [detail: string]: unknown;
}

/**
 * Receives every error Baton sees but must not throw: a handler error in a consume loop
 * Baton runs (after which the adapter applies its failure semantics), a failed ack, a
 * dead-letter failure, a read error. It must not throw (a throw is reported once through
 * `diag` and ignored). Without one, Baton reports each kind once through `diag`.
 */
export type OnError = (error: unknown, info: ErrorInfo) => void;

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
  /**
   * See {@link OnError}. Declared as a method so that an adapter's options may narrow
   * `info` to its own {@link ErrorInfo} subtype.
   * @defaultValue one `diag` warning per kind of error
   */
  onError?(error: unknown, info: ErrorInfo): void;
  /**
   * A low-cardinality form of destination names that hold ids, e.g.
   * `(name) => name.replace(/^user\.\d+\./, 'user.{id}.')`: span names and metric
   * attributes use it (`messaging.destination.template`), the full name stays on the
   * span. Return `undefined` to keep the name. Must not throw (a throw keeps the name).
   */
  destinationTemplate?: (destination: string) => string | undefined;
  /** Emit metrics. @defaultValue true */
  metrics?: boolean;
  /**
   * Who records the spans of a client method that OpenTelemetry's contrib instrumentation
   * (or another shimmer-based one, e.g. Sentry's) also wraps, so that every message gets
   * exactly one producer span and one consumer span. Baton looks for the wrapper on every
   * call; a method without one is traced by Baton whatever this says. See
   * {@link Coexistence}.
   * - `'baton'`: Baton's spans and metrics; the other instrumentation records nothing for
   *   the calls Baton makes (amqplib: the publish runs with tracing suppressed and the
   *   consumer is registered unwrapped; kafkajs: the unwrapped `send`, `sendBatch`,
   *   `transaction` and `run` are called).
   * - `'contrib'`: the other instrumentation's spans; Baton adds the correlation id,
   *   baggage, time in queue, lag and batch message contexts, and counts messages only
   *   where that instrumentation does not (it does for kafkajs, not for amqplib).
   * @defaultValue 'baton'
   */
  coexistence?: Coexistence;
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
