import { type Context, isSpanContextValid, TraceFlags, trace } from '@opentelemetry/api';
import type { Labels } from './labels.js';

/**
 * The exemplar labels of a record: the trace and span ids of its context's span, when that
 * span is sampled (an unsampled trace is exported nowhere, so a link to it would lead to
 * nothing). `trace_id` and `span_id` take 63 of the 128 characters OpenMetrics allows.
 */
export function exemplarOf(context: Context): Labels | undefined {
  const span = trace.getSpanContext(context);
  if (span === undefined || (span.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  if (!isSpanContextValid(span)) return undefined;
  return { trace_id: span.traceId, span_id: span.spanId };
}
