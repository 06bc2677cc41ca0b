import { type Attributes, SpanKind } from '@opentelemetry/api';

/**
 * What counting a message's spans needs of one finished span, as plain data: what a child
 * process can print as JSON for the test that spawned it.
 */
export interface SpanFacts {
  name: string;
  kind: SpanKind;
  /** The instrumentation scope (`@baton/amqplib`, `@opentelemetry/instrumentation-amqplib`). */
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Span ids of its links. */
  links: string[];
  attributes: Attributes;
}

/** The parts of an SDK span (either OpenTelemetry line) {@link spanFacts} reads. */
export interface FinishedSpanLike {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): { traceId: string; spanId: string };
  readonly parentSpanContext?: { spanId: string } | undefined;
  readonly links: ReadonlyArray<{ context: { spanId: string } }>;
  readonly attributes: Attributes;
  readonly instrumentationScope: { name: string };
}

/** The facts of a finished span. */
export function spanFacts(span: FinishedSpanLike): SpanFacts {
  const { traceId, spanId } = span.spanContext();
  const parentSpanId = span.parentSpanContext?.spanId;
  return {
    name: span.name,
    kind: span.kind,
    scope: span.instrumentationScope.name,
    traceId,
    spanId,
    ...(parentSpanId !== undefined && { parentSpanId }),
    links: span.links.map((link) => link.context.spanId),
    attributes: { ...span.attributes },
  };
}

/** One published message, as a coexistence test knows it. */
export interface PublishedMessage {
  /** The trace the message was published in (one root span per publish). */
  traceId: string;
  /** The `traceparent` the consumer found on the wire, if any. */
  traceparent?: string | undefined;
  /** Count only spans of this `messaging.destination.name` (a send covering several topics). */
  destination?: string;
}

/** The spans of one message, by the one rule every coexistence test applies. */
export interface MessageSpanCount {
  /** PRODUCER spans in the message's trace. */
  producers: number;
  /**
   * CONSUMER spans of the message: in its trace, or linked to one of its producer spans
   * (a batch span, or a per-message span of another trace).
   */
  consumers: number;
  /** Whose span the wire `traceparent` names: one of `producerScopes`, `'other'`, or `'none'`. */
  wire: string;
  /** The scopes of those producer spans, sorted. */
  producerScopes: string[];
  /** The scopes of those consumer spans, sorted. */
  consumerScopes: string[];
}

const destinationOf = (span: SpanFacts) => span.attributes['messaging.destination.name'];

/**
 * Counts one message's producer and consumer spans, over every scope, and tells whose span
 * the wire names. A test that expects "exactly one of each" asserts
 * `{ producers: 1, consumers: 1, wire: <producer's scope>, ... }`.
 */
export function countMessageSpans(
  spans: readonly SpanFacts[],
  message: PublishedMessage,
): MessageSpanCount {
  const concerns = (span: SpanFacts) =>
    message.destination === undefined || destinationOf(span) === message.destination;
  const producers = spans.filter(
    (s) => s.kind === SpanKind.PRODUCER && s.traceId === message.traceId && concerns(s),
  );
  const producerIds = new Set(producers.map((s) => s.spanId));
  const consumers = spans.filter(
    (s) =>
      s.kind === SpanKind.CONSUMER &&
      concerns(s) &&
      (s.traceId === message.traceId || s.links.some((id) => producerIds.has(id))),
  );
  const wireSpanId = message.traceparent?.split('-')[2];
  const named = spans.find((s) => s.spanId === wireSpanId);
  return {
    producers: producers.length,
    consumers: consumers.length,
    wire:
      wireSpanId === undefined
        ? 'none'
        : named && producerIds.has(named.spanId)
          ? named.scope
          : 'other',
    producerScopes: producers.map((s) => s.scope).sort(),
    consumerScopes: consumers.map((s) => s.scope).sort(),
  };
}
