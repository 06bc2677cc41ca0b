import {
  type Attributes,
  type Context,
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

/** Each metric's description (OpenTelemetry's `description`, Prometheus's `# HELP`). */
export const METRIC_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  [METRIC_SENT_MESSAGES]: 'Number of messages producer attempted to send to the broker.',
  [METRIC_CONSUMED_MESSAGES]: 'Number of messages that were delivered to the application.',
  [METRIC_OPERATION_DURATION]:
    'Duration of a messaging operation initiated by a producer or consumer client.',
  [METRIC_PROCESS_DURATION]: 'Duration of processing operation.',
  [METRIC_TIME_IN_QUEUE]: 'Time from the creation of a message to the start of its processing.',
  [METRIC_CONSUMER_LAG]: 'Messages in the destination that the consumer has not processed yet.',
  [METRIC_CONSUMER_PENDING]: 'Messages delivered to the consumer and not yet acknowledged.',
});

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

// Attribute sets a batched counter holds between two collections before it adds directly.
const MAX_PENDING_SERIES = 2048;

/**
 * A message counter that adds to the SDK's `Counter` once per attribute set per collection
 * instead of once per message: the metrics SDK hashes the attributes of every `add`
 * (about 1 µs), and the message counters are the two records every message makes. Sums
 * are kept per attribute object (Baton's attribute sets are cached objects, so a
 * destination is one entry) and added to the real counter in a batch observable callback,
 * which the SDK runs at the start of every collection, before it reads the synchronous
 * instruments: every collection and export sees exactly the same totals as with one `add`
 * per message, and the instrument stays a synchronous `Counter` that Views can see. What
 * is lost is the context of each `add`, which only exemplars would use (the JS SDK records
 * none; `@baton/prometheus` gets each message's context from a metric listener).
 */
export class BatchedCounter implements Counter {
  private readonly pending = new Map<Attributes, number>();

  constructor(private readonly counter: Counter) {}

  add(value: number, attributes?: Attributes, context?: Context): void {
    if (attributes !== undefined) {
      const sum = this.pending.get(attributes);
      if (sum !== undefined) {
        this.pending.set(attributes, sum + value);
        return;
      }
      if (this.pending.size < MAX_PENDING_SERIES) {
        this.pending.set(attributes, value);
        return;
      }
    }
    this.counter.add(value, attributes, context);
  }

  /** Adds what accumulated to the real counter; called at each collection. */
  flush(): void {
    if (this.pending.size === 0) return;
    for (const [attributes, value] of this.pending) this.counter.add(value, attributes);
    this.pending.clear();
  }
}

function createInstruments(meter: Meter): Instruments {
  const advice = { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] };
  const sent = new BatchedCounter(
    meter.createCounter(METRIC_SENT_MESSAGES, {
      unit: '{message}',
      description: METRIC_DESCRIPTIONS[METRIC_SENT_MESSAGES],
    }),
  );
  const consumed = new BatchedCounter(
    meter.createCounter(METRIC_CONSUMED_MESSAGES, {
      unit: '{message}',
      description: METRIC_DESCRIPTIONS[METRIC_CONSUMED_MESSAGES],
    }),
  );
  const lag = meter.createObservableGauge(METRIC_CONSUMER_LAG, {
    unit: '{message}',
    description: METRIC_DESCRIPTIONS[METRIC_CONSUMER_LAG],
  });
  // The SDK runs batch callbacks first in every collection; the gauge is only the hook.
  meter.addBatchObservableCallback(() => {
    sent.flush();
    consumed.flush();
  }, [lag]);
  return {
    sent,
    consumed,
    operationDuration: meter.createHistogram(METRIC_OPERATION_DURATION, {
      unit: 's',
      description: METRIC_DESCRIPTIONS[METRIC_OPERATION_DURATION],
      advice,
    }),
    processDuration: meter.createHistogram(METRIC_PROCESS_DURATION, {
      unit: 's',
      description: METRIC_DESCRIPTIONS[METRIC_PROCESS_DURATION],
      advice,
    }),
    timeInQueue: meter.createHistogram(METRIC_TIME_IN_QUEUE, {
      unit: 's',
      description: METRIC_DESCRIPTIONS[METRIC_TIME_IN_QUEUE],
      advice,
    }),
    lag,
    pending: meter.createObservableGauge(METRIC_CONSUMER_PENDING, {
      unit: '{message}',
      description: METRIC_DESCRIPTIONS[METRIC_CONSUMER_PENDING],
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
