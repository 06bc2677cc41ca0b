import type { Attributes, Context } from '@opentelemetry/api';

/** The instruments a {@link MetricRecord} can come from. */
export type RecordedInstrument =
  | 'sent'
  | 'consumed'
  | 'operationDuration'
  | 'processDuration'
  | 'timeInQueue';

/** One measurement Baton recorded, as metric listeners see it. */
export interface MetricRecord {
  readonly instrument: RecordedInstrument;
  /** The OpenTelemetry metric name, e.g. `messaging.process.duration`. */
  readonly name: string;
  /** The value: a count, or seconds. */
  readonly value: number;
  /** The metric attributes (frozen, shared between records: do not keep references to mutate). */
  readonly attributes: Attributes;
  /** The context the measurement belongs to (its span gives an exemplar's trace id). */
  readonly context: Context;
}

/** Receives every measurement Baton records, e.g. to keep exemplars. Must be cheap. */
export type MetricListener = (record: MetricRecord) => void;

/** Listeners, read on every record; empty is the common case and costs one length check. */
export const metricListeners: MetricListener[] = [];

/**
 * Adds a listener that receives every measurement any Baton adapter records in this
 * process (with its context, so a Prometheus exporter can attach trace-id exemplars; the
 * OpenTelemetry JS metrics SDK keeps none). Returns a function that removes it. A
 * listener that throws never reaches the operation: it is reported once through `diag`.
 */
export function addMetricListener(listener: MetricListener): () => void {
  metricListeners.push(listener);
  return () => {
    const index = metricListeners.indexOf(listener);
    if (index >= 0) metricListeners.splice(index, 1);
  };
}
