import {
  type Attributes,
  diag,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableCounter,
  type ObservableGauge,
} from '@opentelemetry/api';

// Semconv bucket advice for messaging durations, in seconds.
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Metric names Baton emits. */
export const METRIC_SENT_MESSAGES = 'messaging.client.sent.messages';
export const METRIC_CONSUMED_MESSAGES = 'messaging.client.consumed.messages';
export const METRIC_OPERATION_DURATION = 'messaging.client.operation.duration';
export const METRIC_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_TIME_IN_QUEUE = 'baton.consumer.time_in_queue';
export const METRIC_CONSUMER_LAG = 'baton.consumer.lag';
export const METRIC_CONSUMER_PENDING = 'baton.consumer.pending';

/** A message counter: `add` as on a counter, summed in process (see {@link AccumulatingCounter}). */
export interface MessageCounter {
  add(value: number, attributes: Attributes): void;
}

/** The instruments of one meter. */
export interface Instruments {
  sent: MessageCounter;
  consumed: MessageCounter;
  operationDuration: Histogram;
  processDuration: Histogram;
  timeInQueue: Histogram;
  lag: ObservableGauge;
  pending: ObservableGauge;
}

// Most per-message cost of a metrics SDK is hashing the attribute object on every record.
// The two message counters are summed here instead, keyed by the (cached, shared) attribute
// object, and reported through observable counters at collection time: the exported data
// is the same monotonic sum. Bounded: past MAX_COUNTER_SERIES attribute sets new ones fold
// into one overflow series, as the SDK's own cardinality limit does.
const MAX_COUNTER_SERIES = 2048;
const OVERFLOW: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** Sums a counter in process; an observable counter reports the totals when collected. */
export class AccumulatingCounter implements MessageCounter {
  private readonly totals = new Map<Attributes, number>();
  private warned = false;

  constructor(instrument: ObservableCounter) {
    instrument.addCallback((result) => {
      // Several Baton instances may hold equal attribute objects: merge them by content.
      const merged = new Map<string, { attributes: Attributes; value: number }>();
      for (const [attributes, value] of this.totals) {
        const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
        const entry = merged.get(key);
        if (entry) entry.value += value;
        else merged.set(key, { attributes, value });
      }
      for (const { attributes, value } of merged.values()) result.observe(value, attributes);
    });
  }

  add(value: number, attributes: Attributes): void {
    const total = this.totals.get(attributes);
    if (total !== undefined) {
      this.totals.set(attributes, total + value);
    } else if (this.totals.size < MAX_COUNTER_SERIES) {
      this.totals.set(attributes, value);
    } else {
      if (!this.warned) {
        this.warned = true;
        diag.warn(
          '@baton/core: more than 2048 attribute sets on a message counter; folding the rest into an overflow series',
        );
      }
      this.totals.set(OVERFLOW, (this.totals.get(OVERFLOW) ?? 0) + value);
    }
  }
}

// One pair of counters per meter, shared by every Baton instance that uses that meter, so
// their callbacks never report the same series twice.
const countersByMeter = new WeakMap<Meter, Pick<Instruments, 'sent' | 'consumed'>>();

function messageCounters(meter: Meter): Pick<Instruments, 'sent' | 'consumed'> {
  let counters = countersByMeter.get(meter);
  if (counters === undefined) {
    counters = {
      sent: new AccumulatingCounter(
        meter.createObservableCounter(METRIC_SENT_MESSAGES, {
          unit: '{message}',
          description: 'Messages a producer attempted to send.',
        }),
      ),
      consumed: new AccumulatingCounter(
        meter.createObservableCounter(METRIC_CONSUMED_MESSAGES, {
          unit: '{message}',
          description: 'Messages delivered to the application.',
        }),
      ),
    };
    countersByMeter.set(meter, counters);
  }
  return counters;
}

function createInstruments(meter: Meter): Instruments {
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  return {
    ...messageCounters(meter),
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
