import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One of Baton's metrics as Prometheus stores it (observability/metrics.json). */
export interface PrometheusMetric {
  /** The OpenTelemetry instrument name, e.g. `messaging.process.duration`. */
  otel: string;
  instrument: 'counter' | 'histogram' | 'gauge';
  unit: string;
  type: 'counter' | 'histogram' | 'gauge';
  /** The OpenMetrics family name (`# TYPE <family> <type>`). */
  family: string;
  /** The series names Prometheus stores, e.g. `..._bucket`, `..._sum`, `..._count`. */
  series: string[];
  requiredLabels: string[];
  optionalLabels: string[];
  /** On the scraped route (@baton/prometheus); the Collector route carries none. */
  exemplars: boolean;
  /** Histograms: the finite `le` boundaries. */
  buckets?: number[];
}

interface NamesFile {
  targetLabels: Record<string, string>;
  exporterLabels: Record<string, string>;
  ruleLabels: Record<string, string>;
  exemplarLabels: Record<string, string>;
  labels: Record<string, string>;
  metrics: PrometheusMetric[];
}

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path inside the repository. */
export function repoPath(relative: string): string {
  return `${REPO_ROOT}${relative}`;
}

const names = JSON.parse(readFileSync(repoPath('observability/metrics.json'), 'utf8')) as NamesFile;

/** Baton's metrics, as documented in observability/metrics.json. */
export const BATON_METRICS: readonly PrometheusMetric[] = names.metrics;

/** `attribute -> label` for every attribute Baton puts on a metric. */
export const LABEL_FOR_ATTRIBUTE: Readonly<Record<string, string>> = names.labels;

/** `job` and `instance`: set by Prometheus (or the Collector), not by Baton. */
export const TARGET_LABELS: readonly string[] = Object.keys(names.targetLabels);

/** Labels an OpenTelemetry exporter may add (`otel_scope_name`, ...). */
export const EXPORTER_LABELS: readonly string[] = Object.keys(names.exporterLabels);

/** Labels the recording rules add (`producer_job`, `consumer_job` of the service map). */
export const RULE_LABELS: readonly string[] = Object.keys(names.ruleLabels);

/** Labels of an exemplar (`trace_id`, `span_id`). */
export const EXEMPLAR_LABELS: readonly string[] = Object.keys(names.exemplarLabels);

/** Every series name Baton documents. */
export const DOCUMENTED_SERIES: ReadonlySet<string> = new Set(
  BATON_METRICS.flatMap((m) => m.series),
);

/**
 * Every label a Baton series may carry, `le`, the target and exporter labels and the labels
 * of the recording rules included.
 */
export const DOCUMENTED_LABELS: ReadonlySet<string> = new Set([
  ...BATON_METRICS.flatMap((m) => [...m.requiredLabels, ...m.optionalLabels]),
  ...Object.values(names.labels),
  ...TARGET_LABELS,
  ...EXPORTER_LABELS,
  ...RULE_LABELS,
  'le',
]);

/** The documented metric a series name belongs to. */
export function metricOfSeries(series: string): PrometheusMetric | undefined {
  return BATON_METRICS.find((m) => m.series.includes(series));
}

/**
 * What is wrong with the labels of one stored series of a documented metric: labels the
 * metric does not document (target labels and `le` on buckets aside) and required labels
 * that are missing. Empty when the series is as documented.
 */
export function labelProblems(
  metric: PrometheusMetric,
  series: string,
  labels: readonly string[],
): string[] {
  const allowed = new Set([
    '__name__',
    ...metric.requiredLabels,
    ...metric.optionalLabels,
    ...TARGET_LABELS,
    ...(series.endsWith('_bucket') ? ['le'] : []),
  ]);
  return [
    ...labels
      .filter((label) => !allowed.has(label))
      .map((label) => `${series}: undocumented ${label}`),
    ...metric.requiredLabels
      .filter((label) => !labels.includes(label))
      .map((label) => `${series}: no ${label}`),
  ];
}

/** Series names Prometheus makes itself: per target (up, scrape_*) and from loaded rules. */
export function isPrometheusOwnSeries(name: string | undefined): boolean {
  if (name === undefined) return false;
  return (
    name === 'up' || name.startsWith('scrape_') || name.startsWith('ALERTS') || name.includes(':')
  );
}
