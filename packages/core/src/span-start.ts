import type { Context, Link, Span, SpanKind, SpanOptions } from '@opentelemetry/api';
import { messageAttributes, type OperationType } from './attributes.js';
import type { TelemetryRuntime } from './runtime.js';
import type { MessageDescription } from './types.js';

/** Everything that decides one Baton span. */
export interface SpanStart {
  description: MessageDescription;
  operationName: string;
  operationType: OperationType;
  kind: SpanKind;
  parent: Context;
  /** Baton's correlation id, put on the span as `baton.correlation_id`. */
  correlationId: string | undefined;
  links?: Link[] | undefined;
  /** Sets `messaging.batch.message_count`. */
  messageCount?: number | undefined;
  /** Start a new trace even if `parent` holds a span. */
  root?: boolean;
}

/**
 * Starts a span named `{operation} {destination}` (the destination template when there is
 * one) with the shared low-cardinality attributes. The per-message ones are set only when
 * the span records: with no SDK, nothing per message is built.
 */
export function startSpan(runtime: TelemetryRuntime, start: SpanStart): Span {
  const { description, operationName, links } = start;
  // One lookup gives the name and the attributes (the template is applied once).
  const sets = runtime.attributesOf(description, operationName, start.operationType);
  const options: SpanOptions = { kind: start.kind, attributes: sets.span };
  if (links !== undefined && links.length > 0) options.links = links;
  if (start.root === true) options.root = true;
  const span = runtime.tracer.startSpan(sets.spanName, options, start.parent);
  if (span.isRecording()) {
    span.setAttributes(
      messageAttributes(
        description,
        runtime.options.semconvStability,
        start.correlationId,
        start.messageCount,
      ),
    );
  }
  return span;
}
