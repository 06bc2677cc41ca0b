import {
  DURATION_BUCKETS_SECONDS,
  METRIC_CONSUMED_MESSAGES,
  METRIC_CONSUMER_LAG,
  METRIC_CONSUMER_PENDING,
  METRIC_DESCRIPTIONS,
  METRIC_OPERATION_DURATION,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
  type RecordedInstrument,
} from '@baton/core';

// Baton's metrics as Prometheus sees them: the names of observability/metrics.json, which
// is what the OpenTelemetry Collector's prometheus exporter makes of the same metrics
// (dots to underscores, `s` -> `_seconds`, counters `_total`). A test holds the two equal.

/** One Prometheus metric family Baton serves. */
export interface Family {
  /** The OpenTelemetry metric name. */
  readonly otel: string;
  /** The family name (`# TYPE <family> <type>`); counters' samples add `_total`. */
  readonly family: string;
  readonly type: 'counter' | 'histogram' | 'gauge';
  readonly help: string;
}

export const FAMILIES: Readonly<Record<RecordedInstrument, Family>> = {
  sent: {
    otel: METRIC_SENT_MESSAGES,
    family: 'messaging_client_sent_messages',
    type: 'counter',
    help: METRIC_DESCRIPTIONS[METRIC_SENT_MESSAGES] as string,
  },
  consumed: {
    otel: METRIC_CONSUMED_MESSAGES,
    family: 'messaging_client_consumed_messages',
    type: 'counter',
    help: METRIC_DESCRIPTIONS[METRIC_CONSUMED_MESSAGES] as string,
  },
  operationDuration: {
    otel: METRIC_OPERATION_DURATION,
    family: 'messaging_client_operation_duration_seconds',
    type: 'histogram',
    help: METRIC_DESCRIPTIONS[METRIC_OPERATION_DURATION] as string,
  },
  processDuration: {
    otel: METRIC_PROCESS_DURATION,
    family: 'messaging_process_duration_seconds',
    type: 'histogram',
    help: METRIC_DESCRIPTIONS[METRIC_PROCESS_DURATION] as string,
  },
  timeInQueue: {
    otel: METRIC_TIME_IN_QUEUE,
    family: 'baton_consumer_time_in_queue_seconds',
    type: 'histogram',
    help: METRIC_DESCRIPTIONS[METRIC_TIME_IN_QUEUE] as string,
  },
};

/** The lag gauges, read from the running lag monitors at scrape time. */
export const GAUGE_FAMILIES: Readonly<Record<'lag' | 'pending', Family>> = {
  lag: {
    otel: METRIC_CONSUMER_LAG,
    family: 'baton_consumer_lag',
    type: 'gauge',
    help: METRIC_DESCRIPTIONS[METRIC_CONSUMER_LAG] as string,
  },
  pending: {
    otel: METRIC_CONSUMER_PENDING,
    family: 'baton_consumer_pending',
    type: 'gauge',
    help: METRIC_DESCRIPTIONS[METRIC_CONSUMER_PENDING] as string,
  },
};

/** `le` boundaries of every histogram: core's bucket advice, as the SDK route uses it. */
export const BUCKETS_SECONDS: readonly number[] = DURATION_BUCKETS_SECONDS;

/** The label of the one series that collects a metric's label sets past the cap. */
export const OVERFLOW_LABEL = 'otel_metric_overflow';

/**
 * `attribute -> label` for every attribute Baton puts on a metric (dots to underscores).
 * prom-client needs every label name up front; an attribute not listed here is dropped.
 */
export const LABEL_OF_ATTRIBUTE: Readonly<Record<string, string>> = {
  'messaging.system': 'messaging_system',
  'messaging.system.name': 'messaging_system_name',
  'messaging.operation.name': 'messaging_operation_name',
  'messaging.operation.type': 'messaging_operation_type',
  'messaging.destination.name': 'messaging_destination_name',
  'messaging.destination.template': 'messaging_destination_template',
  'messaging.destination.partition.id': 'messaging_destination_partition_id',
  'messaging.consumer.group.name': 'messaging_consumer_group_name',
  'baton.destination.published_name': 'baton_destination_published_name',
  'error.type': 'error_type',
  'server.address': 'server_address',
  'server.port': 'server_port',
};

/** Every label name a Baton family may carry (`le` aside). */
export const LABEL_NAMES: readonly string[] = [
  ...Object.values(LABEL_OF_ATTRIBUTE),
  OVERFLOW_LABEL,
];
