import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  addMetricListener,
  Diagnostics,
  type LagReading,
  lagReadings,
  type MetricRecord,
  type RecordedInstrument,
} from '@baton/core';
import {
  Counter,
  Gauge,
  Histogram,
  openMetricsContentType,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import { exemplarOf } from './exemplar.js';
import { type Labels, SeriesLimiter } from './labels.js';
import { BUCKETS_SECONDS, FAMILIES, type Family, GAUGE_FAMILIES, LABEL_NAMES } from './names.js';
import type { MetricSample, PrometheusMetrics, PrometheusMetricsOptions } from './types.js';

const PACKAGE = '@baton/prometheus';

/** Defaults of {@link PrometheusMetricsOptions}. */
export const DEFAULT_PROMETHEUS_METRICS_OPTIONS = Object.freeze({
  exemplars: true,
  maxSeriesPerMetric: 2048,
});

type Recorder = (labels: Labels, value: number, exemplar: Labels | undefined) => void;

interface RecordTarget {
  readonly index: number;
  readonly record: Recorder;
}

/**
 * Serves Baton's messaging metrics to Prometheus as OpenMetrics, with the trace and span
 * ids of sampled records as exemplars: the names, labels and buckets of
 * observability/metrics.json, so the shipped rules and dashboard work unchanged. Fed by
 * every Baton adapter in the process (core's metric listeners), and by the running lag
 * monitors at scrape time. One per registry; `stop()` undoes it.
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
  const registry = options.registry ?? openMetricsRegistry();
  const registered = [...Object.values(FAMILIES), ...Object.values(GAUGE_FAMILIES)].map(
    registeredName,
  );
  const taken = registered.filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0) {
    throw new Error(
      `${PACKAGE}: the registry already has ${taken.join(', ')}: one createPrometheusMetrics per registry (stop() the other first)`,
    );
  }
  const exemplars = (options.exemplars ?? true) && registry.contentType === openMetricsContentType;
  if (options.exemplars !== false && !exemplars) {
    diagnostics.reportOnce(
      'text format',
      'the registry serves the Prometheus text format, which has no exemplars: Baton metrics are served without them (give a registry created with openMetricsContentType)',
      undefined,
    );
  }
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

  const recorded = Object.entries(FAMILIES) as Array<[RecordedInstrument, Family]>;
  const familyNames = [
    ...recorded.map(([, f]) => f.family),
    GAUGE_FAMILIES.lag.family,
    GAUGE_FAMILIES.pending.family,
  ];
  const limiter = new SeriesLimiter(maxSeries, familyNames, {
    overflow: (family) =>
      diagnostics.reportOnce(
        `overflow ${family}`,
        `more than ${maxSeries} label sets for ${family}; further ones are counted in its otel_metric_overflow="true" series`,
        undefined,
      ),
    unknownAttribute: (attribute) =>
      diagnostics.reportOnce(
        `attribute ${attribute}`,
        `no Prometheus label for metric attribute ${attribute}; it is left out`,
        undefined,
      ),
  });

  const targets = {} as Record<RecordedInstrument, RecordTarget>;
  recorded.forEach(([instrument, family], index) => {
    targets[instrument] = { index, record: recorderOf(family, registry, exemplars) };
  });
  const gauge = (kind: 'lag' | 'pending', index: number) => {
    const family = GAUGE_FAMILIES[kind];
    const metric: Gauge = new Gauge({
      name: family.family,
      help: family.help,
      labelNames: LABEL_NAMES,
      registers: [registry],
      collect() {
        metric.reset();
        let readings: LagReading[] = [];
        try {
          readings = lagReadings();
        } catch (error) {
          diagnostics.warnOnce('lag readings', error);
        }
        for (const reading of readings) {
          if (reading.name !== family.otel || !Number.isFinite(reading.value)) continue;
          if (!passes(reading)) continue;
          metric.set(limiter.labelsOf(index, reading.attributes), reading.value);
        }
      },
    });
  };
  gauge('lag', recorded.length);
  gauge('pending', recorded.length + 1);

  const listener = (record: MetricRecord): void => {
    const target = targets[record.instrument];
    const value = record.value;
    if (target === undefined || !(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    if (filter !== undefined && !passes(record)) return;
    try {
      const labels = limiter.labelsOf(target.index, record.attributes);
      target.record(labels, value, exemplars ? exemplarOf(record.context) : undefined);
    } catch (error) {
      diagnostics.warnOnce('record', error);
    }
  };
  let removeListener: (() => void) | undefined = addMetricListener(listener);

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics: () => registry.metrics(),
    handler: (request, response) => serve(registry, diagnostics, request, response),
    stop() {
      if (removeListener === undefined) return;
      removeListener();
      removeListener = undefined;
      for (const name of registered) registry.removeSingleMetric(name);
    },
  };
}

// prom-client's types declare no constructor argument, so the content type is set after.
function openMetricsRegistry(): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(openMetricsContentType);
  return registry;
}

// Counters are registered as `<family>_total`: the text format prints the name as given,
// and on an OpenMetrics registry prom-client takes the suffix off for `# TYPE` and puts it
// back on the samples, so both formats give `<family>_total` samples.
function registeredName(family: Family): string {
  return family.type === 'counter' ? `${family.family}_total` : family.family;
}

function recorderOf(
  family: Family,
  registry: Registry<RegistryContentType>,
  exemplars: boolean,
): Recorder {
  const config = {
    name: registeredName(family),
    help: family.help,
    labelNames: LABEL_NAMES,
    registers: [registry],
    enableExemplars: exemplars,
  };
  if (family.type === 'counter') {
    const counter = new Counter(config);
    if (!exemplars) return (labels, value) => counter.inc(labels, value);
    // No exemplar given keeps the series' last one (prom-client compares with its default).
    return (labels, value, exemplar) =>
      exemplar === undefined
        ? counter.inc({ labels, value })
        : counter.inc({ labels, value, exemplarLabels: exemplar });
  }
  const histogram = new Histogram({ ...config, buckets: [...BUCKETS_SECONDS] });
  if (!exemplars) return (labels, value) => histogram.observe(labels, value);
  return (labels, value, exemplar) =>
    exemplar === undefined
      ? histogram.observe({ labels, value })
      : histogram.observe({ labels, value, exemplarLabels: exemplar });
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

async function serve(
  registry: Registry<RegistryContentType>,
  diagnostics: Diagnostics,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    const body = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch (error) {
    diagnostics.warnOnce('metrics collection', error);
    try {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      }
      response.end('metrics collection failed\n');
    } catch {
      // the connection is gone: nothing left to tell
    }
  }
}
