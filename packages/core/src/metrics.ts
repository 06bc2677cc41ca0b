import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
} from '@opentelemetry/api';

/**
 * The bucket boundaries of Baton's duration histograms, in seconds: semconv's advice for
 * messaging durations. Exporters that build their own histograms (e.g. `@baton/prometheus`)
 * use these so that every route gives the same buckets.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** Metric names Baton emits. */
export const METRIC_SENT_MESSAGES = 'messaging.client.sent.messages';
export const METRIC_CONSUMED_MESSAGES = 'messaging.client.consumed.messages';
export const METRIC_OPERATION_DURATION = 'messaging.client.operation.duration';
export const METRIC_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_TIME_IN_QUEUE = 'baton.consumer.time_in_queue';
export const METRIC_CONSUMER_LAG = 'baton.consumer.lag';
export const METRIC_CONSUMER_PENDING = 'baton.consumer.pending';

/** The instruments of one meter. */
export interface Instruments {
  sent: Counter;
  consumed: Counter;
  operationDuration: Histogram;
  processDuration: Histogram;
  timeInQueue: Histogram;
  lag: ObservableGauge;
  pending: ObservableGauge;
}

function createInstruments(meter: Meter): Instruments {
  const advice = { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] };
  return {
    sent: meter.createCounter(METRIC_SENT_MESSAGES, {
      unit: '{message}',
      description: 'Number of messages producer attempted to send to the broker.',
    }),
    consumed: meter.createCounter(METRIC_CONSUMED_MESSAGES, {
      unit: '{message}',
      description: 'Number of messages that were delivered to the application.',
    }),
    operationDuration: meter.createHistogram(METRIC_OPERATION_DURATION, {
      unit: 's',
      description: 'Duration of a messaging operation initiated by a producer or consumer client.',
      advice,
    }),
    processDuration: meter.createHistogram(METRIC_PROCESS_DURATION, {
      unit: 's',
      description: 'Duration of processing operation.',
      advice,
    }),
    timeInQueue: meter.createHistogram(METRIC_TIME_IN_QUEUE, {
      unit: 's',
      description: 'Time from the creation of a message to the start of its processing.',
      advice,
    }),
    lag: meter.createObservableGauge(METRIC_CONSUMER_LAG, {
      unit: '{message}',
      description: 'Messages in the destination that the consumer has not processed yet.',
    }),
    pending: meter.createObservableGauge(METRIC_CONSUMER_PENDING, {
      unit: '{message}',
      description: 'Messages delivered to the consumer and not yet acknowledged.',
    }),
  };
}

/**
 * Instruments for the configured meter provider, or the global one as it is *now*: the
 * global meter provider is not a proxy, so an SDK registered after Baton was set up must
 * still be picked up. One identity check per call; instruments are made once per provider.
 */
export class InstrumentSource {
  private provider: MeterProvider | undefined;
  private current: Instruments | undefined;
  private readonly listeners: Array<(instruments: Instruments) => void> = [];

  constructor(
    private readonly scopeName: string,
    private readonly scopeVersion: string,
    private readonly configured: MeterProvider | undefined,
  ) {}

  get(): Instruments {
    const provider = this.configured ?? metrics.getMeterProvider();
    if (provider !== this.provider || this.current === undefined) {
      this.provider = provider;
      this.current = createInstruments(provider.getMeter(this.scopeName, this.scopeVersion));
      for (const listener of this.listeners) listener(this.current);
    }
    return this.current;
  }

  /** Calls `listener` with the instruments now and whenever the provider changes. */
  onInstruments(listener: (instruments: Instruments) => void): () => void {
    this.listeners.push(listener);
    listener(this.get());
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }
}

const errorVariants = new WeakMap<Attributes, Map<string, Attributes>>();
const MAX_ERROR_VARIANTS = 64;

/**
 * Adds `error.type` to metric attributes when an operation failed. The variants of a
 * cached attribute object are cached too (error types are class names: few), so a failing
 * destination does not make a new series object per failure.
 */
export function withErrorType(attributes: Attributes, errorType: string | undefined): Attributes {
  if (errorType === undefined) return attributes;
  let variants = errorVariants.get(attributes);
  if (variants === undefined) {
    variants = new Map();
    errorVariants.set(attributes, variants);
  }
  let variant = variants.get(errorType);
  if (variant === undefined) {
    variant = Object.freeze({ ...attributes, 'error.type': errorType });
    if (variants.size < MAX_ERROR_VARIANTS) variants.set(errorType, variant);
  }
  return variant;
}
