import { type Attributes, diag, type ObservableResult } from '@opentelemetry/api';
import { type Instruments, METRIC_CONSUMER_LAG, METRIC_CONSUMER_PENDING } from './metrics.js';
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_SYSTEM,
  applySemconvStability,
} from './semconv.js';
import type { MessagingTelemetry } from './telemetry.js';
import type { LagSample } from './types.js';

/** Options for {@link startLagMonitor}. */
export interface LagMonitorOptions {
  /** `messaging.system` of the samples. */
  system: string;
  /** Reads the current backlog from the broker (an admin query); never per message. */
  read: () => Promise<readonly LagSample[]> | readonly LagSample[];
  /** Least time between two reads. Bad values fall back to the default. @defaultValue 10_000 */
  intervalMs?: number;
}

/** A running lag monitor. */
export interface LagMonitor {
  /** The latest readings (empty before the first successful read and after `stop`). */
  readings(): readonly LagReading[];
  /** When the last read succeeded, in ms since the epoch; undefined before the first. */
  readonly lastReadAtMs: number | undefined;
  /** Reads once now (waits for a read already under way). Never rejects. */
  refresh(): Promise<void>;
  /** Stops reading and stops reporting. Idempotent. */
  stop(): void;
}

/** One gauge reading of a running lag monitor, as {@link lagReadings} returns it. */
export interface LagReading {
  /** `baton.consumer.lag` or `baton.consumer.pending`. */
  readonly name: string;
  readonly value: number;
  readonly attributes: Attributes;
}

// The latest readings of every running monitor, for exporters that scrape on their own
// schedule (e.g. a Prometheus endpoint) rather than through an OpenTelemetry meter.
const running = new Set<() => readonly LagReading[]>();

/** The latest lag and pending readings of every running lag monitor in this process. */
export function lagReadings(): LagReading[] {
  const readings: LagReading[] = [];
  for (const read of running) readings.push(...read());
  return readings;
}

/** Default {@link LagMonitorOptions.intervalMs}. */
export const DEFAULT_LAG_INTERVAL_MS = 10_000;

/**
 * Polls `read` at most once per interval, off the message path, and reports the latest
 * samples as the `baton.consumer.lag` and `baton.consumer.pending` gauges. Only the latest
 * read is kept, so memory is bounded by what one read returns. The timer is unref'd.
 */
export function startLagMonitor(
  telemetry: MessagingTelemetry,
  options: LagMonitorOptions,
): LagMonitor {
  const valid =
    typeof options.intervalMs === 'number' &&
    Number.isFinite(options.intervalMs) &&
    options.intervalMs > 0;
  if (options.intervalMs !== undefined && !valid) {
    diag.warn(
      `${telemetry.diagnostics.packageName}: ignoring invalid lag intervalMs=${String(options.intervalMs)}; using ${DEFAULT_LAG_INTERVAL_MS}`,
    );
  }
  const intervalMs = valid ? (options.intervalMs as number) : DEFAULT_LAG_INTERVAL_MS;
  const stability = telemetry.options.semconvStability;
  let latest: Array<{ kind: 'lag' | 'pending'; value: number; attributes: Attributes }> = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = !telemetry.options.metrics;
  let lastReadAtMs: number | undefined;

  const observe = (kind: 'lag' | 'pending') => (result: ObservableResult) => {
    for (const sample of latest)
      if (sample.kind === kind) result.observe(sample.value, sample.attributes);
  };
  const observeLag = observe('lag');
  const observePending = observe('pending');
  let registered: Instruments | undefined;
  const unregister = () => {
    registered?.lag.removeCallback(observeLag);
    registered?.pending.removeCallback(observePending);
    registered = undefined;
  };
  const removeListener = stopped
    ? () => {}
    : telemetry.instruments.onInstruments((instruments) => {
        unregister();
        instruments.lag.addCallback(observeLag);
        instruments.pending.addCallback(observePending);
        registered = instruments;
      });

  const readOnce = async () => {
    try {
      const samples = await options.read();
      latest = samples
        .filter((sample) => Number.isFinite(sample.value))
        .map((sample) => {
          const attributes: Attributes = {
            [ATTR_MESSAGING_SYSTEM]: options.system,
            [ATTR_MESSAGING_DESTINATION_NAME]: sample.destination,
          };
          if (sample.consumerGroup !== undefined)
            attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = sample.consumerGroup;
          if (sample.partition !== undefined)
            attributes[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = String(sample.partition);
          return {
            kind: sample.kind ?? 'lag',
            value: sample.value,
            attributes: applySemconvStability(attributes, stability),
          };
        });
      lastReadAtMs = Date.now();
      telemetry.instruments.get(); // picks up a meter provider registered since the last read
    } catch (error) {
      telemetry.diagnostics.warnOnce('lag read', error);
    }
  };
  const refresh = () => {
    if (stopped) return Promise.resolve();
    inFlight ??= readOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void refresh().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  const readings = (): LagReading[] =>
    latest.map((sample) => ({
      name: sample.kind === 'lag' ? METRIC_CONSUMER_LAG : METRIC_CONSUMER_PENDING,
      value: sample.value,
      attributes: sample.attributes,
    }));
  if (!stopped) {
    running.add(readings);
    void refresh().then(schedule);
  }

  return {
    readings,
    get lastReadAtMs() {
      return lastReadAtMs;
    },
    refresh,
    stop() {
      running.delete(readings);
      if (stopped && registered === undefined) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      removeListener();
      unregister();
      latest = [];
    },
  };
}
