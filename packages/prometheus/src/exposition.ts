import { isSpanContextValid } from '@opentelemetry/api';
import type { Family } from './names.js';
import type { CounterSeries, ExemplarSlot, HistogramSeries } from './series.js';

/**
 * `openmetrics`: OpenMetrics 1.0 text, exemplars included (what Prometheus asks for).
 * `text`: Prometheus text format 0.0.4 (no exemplars), to join a registry that serves it.
 */
export type ExpositionFormat = 'openmetrics' | 'text';

export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** One gauge sample, read at scrape time. */
export interface GaugeSample {
  readonly labels: string;
  readonly value: number;
}

const number = (value: number): string =>
  Number.isNaN(value)
    ? 'NaN'
    : value === Number.POSITIVE_INFINITY
      ? '+Inf'
      : value === Number.NEGATIVE_INFINITY
        ? '-Inf'
        : String(value);

const braces = (labels: string): string => (labels === '' ? '' : `{${labels}}`);

const joined = (labels: string, extra: string): string =>
  labels === '' ? `{${extra}}` : `{${labels},${extra}}`;

// ` # {trace_id="…",span_id="…"} <value> <timestamp>`: ids are validated here, at scrape
// time, rather than on the record path.
function exemplar(slot: ExemplarSlot | undefined, format: ExpositionFormat): string {
  if (slot === undefined || format !== 'openmetrics' || !isSpanContextValid(slot.span)) return '';
  const { traceId, spanId } = slot.span;
  return ` # {trace_id="${traceId}",span_id="${spanId}"} ${number(slot.value)} ${(slot.atMs / 1000).toFixed(3)}`;
}

function header(out: string[], family: Family, name: string, format: ExpositionFormat): void {
  out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
  if (format === 'openmetrics' && family.family.endsWith('_seconds')) {
    out.push(`# UNIT ${name} seconds`);
  }
}

export function renderCounter(
  out: string[],
  family: Family,
  series: readonly CounterSeries[],
  format: ExpositionFormat,
): void {
  // OpenMetrics names the family without `_total`; the text format names the sample.
  const sample = `${family.family}_total`;
  header(out, family, format === 'openmetrics' ? family.family : sample, format);
  for (const s of series) {
    out.push(`${sample}${braces(s.labels)} ${number(s.value)}${exemplar(s.exemplar, format)}`);
  }
}

export function renderHistogram(
  out: string[],
  family: Family,
  boundaries: readonly number[],
  series: readonly HistogramSeries[],
  format: ExpositionFormat,
): void {
  const name = family.family;
  header(out, family, name, format);
  const les = [...boundaries.map((b) => `le="${number(b)}"`), 'le="+Inf"'];
  for (const s of series) {
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i] as number;
      const line = `${name}_bucket${joined(s.labels, les[i] as string)} ${cumulative}`;
      out.push(line + exemplar(s.exemplars[i], format));
    }
    out.push(`${name}_sum${braces(s.labels)} ${number(s.sum)}`);
    out.push(`${name}_count${braces(s.labels)} ${s.count}`);
  }
}

export function renderGauge(
  out: string[],
  family: Family,
  samples: readonly GaugeSample[],
  format: ExpositionFormat,
): void {
  header(out, family, family.family, format);
  for (const s of samples) out.push(`${family.family}${braces(s.labels)} ${number(s.value)}`);
}
