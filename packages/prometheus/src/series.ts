import type { Context } from '@opentelemetry/api';
import { type SpanContext, TraceFlags, trace } from '@opentelemetry/api';

/**
 * The latest exemplar of a bucket or counter: the span context is kept as it is (no string
 * is built on the record path) and turned into `trace_id` / `span_id` at scrape time.
 */
export interface ExemplarSlot {
  span: SpanContext;
  value: number;
  /** Milliseconds since the epoch. */
  atMs: number;
}

/** One counter series: its label text (rendered once) and running total. */
export interface CounterSeries {
  readonly labels: string;
  value: number;
  exemplar: ExemplarSlot | undefined;
}

/** One histogram series, buckets per boundary (not cumulative) plus +Inf. */
export interface HistogramSeries {
  readonly labels: string;
  readonly counts: number[];
  sum: number;
  count: number;
  readonly exemplars: Array<ExemplarSlot | undefined>;
}

/** The span of a record's context when it is sampled: what an exemplar points at. */
export function sampledSpan(context: Context): SpanContext | undefined {
  const span = trace.getSpanContext(context);
  return span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0 ? span : undefined;
}

function keep(slot: ExemplarSlot | undefined, span: SpanContext, value: number): ExemplarSlot {
  const atMs = Date.now();
  if (slot === undefined) return { span, value, atMs };
  slot.span = span;
  slot.value = value;
  slot.atMs = atMs;
  return slot;
}

export function addToCounter(
  series: CounterSeries,
  value: number,
  span: SpanContext | undefined,
): void {
  series.value += value;
  if (span !== undefined) series.exemplar = keep(series.exemplar, span, value);
}

export function observe(
  series: HistogramSeries,
  boundaries: readonly number[],
  value: number,
  span: SpanContext | undefined,
): void {
  let bucket = 0;
  while (bucket < boundaries.length && value > (boundaries[bucket] as number)) bucket++;
  series.counts[bucket] = (series.counts[bucket] as number) + 1;
  series.sum += value;
  series.count++;
  if (span !== undefined) series.exemplars[bucket] = keep(series.exemplars[bucket], span, value);
}
