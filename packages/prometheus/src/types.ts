import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '@opentelemetry/api';

/** What {@link PrometheusMetricsOptions.filter} sees: a record's metric and attributes. */
export interface MetricSample {
  /** The OpenTelemetry metric name, e.g. `messaging.process.duration`. */
  readonly name: string;
  readonly attributes: Attributes;
}

/**
 * What {@link PrometheusMetricsOptions.registry} needs: a prom-client `Registry` has both.
 * Only these two are used, so any prom-client major with them fits.
 */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Options of `createPrometheusMetrics`. */
export interface PrometheusMetricsOptions {
  /**
   * A registry whose metrics the endpoint serves too, before Baton's: e.g. the prom-client
   * `Registry` your `/metrics` already serves (with `collectDefaultMetrics`), so one
   * endpoint has both. Exemplars need OpenMetrics: a registry that serves the Prometheus
   * text format gets Baton's metrics in that format, without exemplars, and one `diag`
   * warning (`registry.setContentType(openMetricsContentType)` fixes it).
   * @defaultValue none: only Baton's metrics
   */
  registry?: MetricsRegistry;
  /**
   * Put the trace and span ids of a record's span on the bucket (histograms) or series
   * (counters) it went to, when that span is sampled. @defaultValue true
   */
  exemplars?: boolean;
  /**
   * Most distinct label sets per metric. Past it, a metric's further label sets are counted
   * in its `otel_metric_overflow="true"` series, with one `diag` warning, as the
   * OpenTelemetry SDK does. Bad values fall back to the default with one warning.
   * @defaultValue 2048
   */
  maxSeriesPerMetric?: number;
  /**
   * Which records and lag readings this endpoint serves. Only needed when one process
   * hosts several services that each need their own endpoint (the records of every Baton
   * adapter in a process reach every endpoint). A filter that throws drops the record.
   * @defaultValue every record
   * @example
   * filter: ({ attributes }) => attributes['messaging.consumer.group.name'] === 'billing'
   */
  filter?: (sample: MetricSample) => boolean;
}

/** Baton's metrics in Prometheus, as `createPrometheusMetrics` returns them. */
export interface PrometheusMetrics {
  /** The `Content-Type` of {@link metrics}' text: OpenMetrics 1.0, unless the registry serves the text format. */
  readonly contentType: string;
  /**
   * The exposition now: the registry's metrics (if one was given), then Baton's, the lag
   * gauges read from the running lag monitors.
   */
  metrics(): Promise<string>;
  /**
   * Serves {@link metrics} (a `node:http` or Express handler: mount it at `/metrics`).
   * Never rejects: a failed collection answers 500 and warns once through `diag`.
   */
  handler(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Stops recording; Baton's metrics leave the exposition (the registry's stay). Idempotent. */
  stop(): void;
}

/** A histogram as OpenTelemetry metric points have it: counts per bucket, one more than boundaries. */
export interface ServiceMapHistogram {
  readonly count: number;
  readonly buckets: { readonly boundaries: readonly number[]; readonly counts: readonly number[] };
}

/**
 * One metric point, as `@baton/testing`'s `MetricPoint` (a flattened OpenTelemetry SDK
 * data point) has it: counters give `value`, histograms `histogram`. Cumulative.
 */
export interface ServiceMapPoint {
  /** The OpenTelemetry metric name, e.g. `messaging.client.sent.messages`. */
  readonly name: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly value?: number;
  readonly histogram?: ServiceMapHistogram;
}

/** The metric points of one service: what `serviceMap` joins. */
export interface ServiceMetrics {
  /** The service's name (`service.name`; `job` in Prometheus). */
  readonly service: string;
  readonly points: readonly ServiceMapPoint[];
}

/** Options of `serviceMap`. */
export interface ServiceMapOptions {
  /** The time the points cover, to give `consumedPerSecond`. @defaultValue none: no rate */
  intervalSeconds?: number;
}

/**
 * One edge of the service map: `producer -> destination -> consumer`. The producer side
 * counts what the producer sent to the destination; the consumer side what the consumer
 * (group) took from it, from every producer of the destination.
 */
export interface ServiceMapEdge {
  /** The service that sent to the destination; undefined when none reported sends. */
  readonly producer?: string;
  /** `messaging.system` (or `messaging.system.name`). */
  readonly system: string;
  /**
   * The destination as its producers name it (its template, when metrics carry one); a
   * RabbitMQ consumer's `baton.destination.published_name` joins it.
   */
  readonly destination: string;
  /** The service that consumed from the destination; undefined when none reported it. */
  readonly consumer?: string;
  readonly consumerGroup?: string;
  /**
   * The consumer's own name of the destination, when it differs from `destination` (the
   * producers' name): RabbitMQ's `{exchange}:{routing key}:{queue}`.
   */
  readonly consumerDestination?: string;
  /** Messages the producer sent to the destination, failed sends included. */
  readonly sent: number;
  readonly sendFailed: number;
  /** Messages the consumer took from the destination, failed ones included. */
  readonly consumed: number;
  /** Consumed messages whose handling failed (`error.type` set). */
  readonly failed: number;
  /** `failed / consumed`; undefined when nothing was consumed. */
  readonly errorRatio?: number;
  /** p95 of `messaging.process.duration`, as Prometheus's `histogram_quantile` gives it. */
  readonly processP95Seconds?: number;
  /** p95 of `baton.consumer.time_in_queue`. */
  readonly timeInQueueP95Seconds?: number;
  /** `consumed / intervalSeconds`, when the interval was given. */
  readonly consumedPerSecond?: number;
}
