import {
  addMetricListener,
  Diagnostics,
  type LagReading,
  lagReadings,
  type MetricRecord,
  type RecordedInstrument,
} from '@baton/core';
import type { SpanContext } from '@opentelemetry/api';
import {
  type ExpositionFormat,
  type GaugeSample,
  OPENMETRICS_CONTENT_TYPE,
  renderCounter,
  renderGauge,
  renderHistogram,
} from './exposition.js';
import { type LabelSet, LabelSets, SeriesStore } from './labels.js';
import { BUCKETS_SECONDS, FAMILIES, GAUGE_FAMILIES } from './names.js';
import {
  addToCounter,
  type CounterSeries,
  type HistogramSeries,
  observe,
  sampledSpan,
} from './series.js';
import { serve } from './serve.js';
import type {
  MetricSample,
  MetricsRegistry,
  PrometheusMetrics,
  PrometheusMetricsOptions,
} from './types.js';

const PACKAGE = '@baton/prometheus';

/** Defaults of {@link PrometheusMetricsOptions}. */
export const DEFAULT_PROMETHEUS_METRICS_OPTIONS = Object.freeze({
  exemplars: true,
  maxSeriesPerMetric: 2048,
});

type Recorder = (set: LabelSet, value: number, span: SpanContext | undefined) => void;
type Render = (out: string[], format: ExpositionFormat) => void;

/**
 * Serves Baton's messaging metrics to Prometheus as OpenMetrics, with the trace and span
 * ids of sampled records as exemplars: the names, labels and buckets of
 * observability/metrics.json, so the shipped rules and dashboard work unchanged. Fed by
 * every Baton adapter in the process (core's metric listeners), and by the running lag
 * monitors at scrape time. `stop()` undoes it.
 *
 * @example
 * const metrics = createPrometheusMetrics();
 * http.createServer((req, res) => {
 *   if (req.url === '/metrics') void metrics.handler(req, res);
 *   else res.writeHead(404).end();
 * }).listen(9464);
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const diagnostics = new Diagnostics(PACKAGE);
  const registry = options.registry;
  const exemplars = options.exemplars ?? DEFAULT_PROMETHEUS_METRICS_OPTIONS.exemplars;
  const maxSeries = validMaxSeries(options.maxSeriesPerMetric, diagnostics);
  const filter = options.filter;
  const passes = (sample: MetricSample): boolean => {
    if (filter === undefined) return true;
    try {
      return filter(sample) === true;
    } catch (error) {
      diagnostics.warnOnce('filter', error);
      return false;
    }
  };
  const labelSets = new LabelSets((attribute) =>
    diagnostics.reportOnce(
      `attribute ${attribute}`,
      `no Prometheus label for metric attribute ${attribute}; it is left out`,
      undefined,
    ),
  );
  const overflowed = (family: string) => () =>
    diagnostics.reportOnce(
      `overflow ${family}`,
      `more than ${maxSeries} label sets for ${family}; further ones are counted in its otel_metric_overflow="true" series`,
      undefined,
    );

  const recorders = {} as Record<RecordedInstrument, Recorder>;
  const renders: Render[] = [];
  (Object.entries(FAMILIES) as Array<[RecordedInstrument, (typeof FAMILIES)['sent']]>).forEach(
    ([instrument, family], index) => {
      if (family.type === 'counter') {
        const store = new SeriesStore<CounterSeries>(
          index,
          maxSeries,
          (labels) => ({ labels, value: 0, exemplar: undefined }),
          overflowed(family.family),
        );
        recorders[instrument] = (set, value, span) =>
          addToCounter(store.seriesOf(set), value, span);
        renders.push((out, format) => renderCounter(out, family, store.all(), format));
        return;
      }
      const buckets = BUCKETS_SECONDS.length + 1;
      const store = new SeriesStore<HistogramSeries>(
        index,
        maxSeries,
        (labels) => ({
          labels,
          counts: new Array<number>(buckets).fill(0),
          sum: 0,
          count: 0,
          exemplars: new Array(buckets).fill(undefined),
        }),
        overflowed(family.family),
      );
      recorders[instrument] = (set, value, span) =>
        observe(store.seriesOf(set), BUCKETS_SECONDS, value, span);
      renders.push((out, format) =>
        renderHistogram(out, family, BUCKETS_SECONDS, store.all(), format),
      );
    },
  );
  renders.push((out, format) => {
    const readings = readLag(diagnostics).filter(passes);
    for (const family of [GAUGE_FAMILIES.lag, GAUGE_FAMILIES.pending]) {
      const samples = new Map<string, GaugeSample>();
      for (const reading of readings) {
        if (reading.name !== family.otel || !Number.isFinite(reading.value)) continue;
        const labels = labelSets.of(reading.attributes).text;
        if (samples.size >= maxSeries && !samples.has(labels)) {
          overflowed(family.family)();
          continue;
        }
        samples.set(labels, { labels, value: reading.value });
      }
      renderGauge(out, family, [...samples.values()], format);
    }
  });

  const listener = (record: MetricRecord): void => {
    const recorder = recorders[record.instrument];
    const value = record.value;
    if (recorder === undefined || !(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    if (filter !== undefined && !passes(record)) return;
    try {
      const span = exemplars ? sampledSpan(record.context) : undefined;
      recorder(labelSets.of(record.attributes), value, span);
    } catch (error) {
      diagnostics.warnOnce('record', error);
    }
  };
  let removeListener: (() => void) | undefined = addMetricListener(listener);

  const formatNow = (): ExpositionFormat => {
    if (registry === undefined || !registry.contentType.startsWith('text/plain')) {
      return 'openmetrics';
    }
    if (exemplars) {
      diagnostics.reportOnce(
        'text format',
        'the registry serves the Prometheus text format, which has no exemplars: Baton metrics are served without them (set the registry to OpenMetrics: registry.setContentType(openMetricsContentType))',
        undefined,
      );
    }
    return 'text';
  };
  const metrics = async (): Promise<string> => {
    const format = formatNow();
    let text = '';
    if (registry !== undefined) {
      text = (await registry.metrics()).replace(/(^|\n)# EOF\s*$/, '').trimEnd();
      if (text !== '') text += '\n';
    }
    const out: string[] = [];
    if (removeListener !== undefined) for (const render of renders) render(out, format);
    if (out.length > 0) text += `${out.join('\n')}\n`;
    return format === 'openmetrics' ? `${text}# EOF\n` : text;
  };
  const contentType = () =>
    formatNow() === 'openmetrics'
      ? OPENMETRICS_CONTENT_TYPE
      : (registry as MetricsRegistry).contentType;

  return {
    get contentType() {
      return contentType();
    },
    metrics,
    handler: (request, response) => serve(metrics, contentType, diagnostics, request, response),
    stop() {
      removeListener?.();
      removeListener = undefined;
    },
  };
}

function readLag(diagnostics: Diagnostics): LagReading[] {
  try {
    return lagReadings();
  } catch (error) {
    diagnostics.warnOnce('lag readings', error);
    return [];
  }
}

function validMaxSeries(value: number | undefined, diagnostics: Diagnostics): number {
  const fallback = DEFAULT_PROMETHEUS_METRICS_OPTIONS.maxSeriesPerMetric;
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value >= 1) return value;
  diagnostics.reportOnce(
    'maxSeriesPerMetric',
    `ignoring invalid maxSeriesPerMetric=${String(value)}; using ${fallback}`,
    undefined,
  );
  return fallback;
}
