import { formatServiceMap, type ServiceMetrics, serviceMap } from '@baton/prometheus';
import type { LogLine, MetricPoint, SpanLike } from '@baton/testing';
import { formatTraceTree } from '@baton/testing';

/** What one demo HTTP request produced. */
export interface RequestOutcome {
  title: string;
  status: number;
  responseBody: unknown;
  correlationId: string | undefined;
  traceparent: string | undefined;
  /** From the response's traceparent. */
  traceId: string | undefined;
  /** The registered user's id, when accepted. */
  userId: string | undefined;
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

/** One request: the response, its trace as a waterfall, and every log line of that trace. */
export function renderRequest(
  outcome: RequestOutcome,
  spans: readonly SpanLike[],
  logs: readonly LogLine[],
): string {
  const lines = [
    '',
    bold(`▶ ${outcome.title}`),
    `  HTTP ${outcome.status} ${JSON.stringify(outcome.responseBody)}`,
    `  x-correlation-id: ${outcome.correlationId ?? '(none)'}`,
    `  traceparent:      ${outcome.traceparent ?? '(none)'}`,
  ];
  const traceSpans = spans.filter((span) => span.spanContext().traceId === outcome.traceId);
  if (traceSpans.length > 0) {
    lines.push('', dim('  trace (service, span, start offset, duration):'));
    lines.push(
      ...formatTraceTree(traceSpans, {
        label: (s) => String(s.resource?.attributes['service.name'] ?? '?'),
      })
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  const traceLogs = logs.filter(
    (line) => outcome.traceId !== undefined && line.trace_id === outcome.traceId,
  );
  if (traceLogs.length > 0) {
    lines.push(
      '',
      dim(
        `  log lines with this trace_id (${traceLogs.length}, from ${new Set(traceLogs.map((l) => l.name)).size} services):`,
      ),
    );
    for (const line of traceLogs) lines.push(`  ${JSON.stringify(line)}`);
  }
  return lines.join('\n');
}

/** The q-quantile of a histogram point, interpolated linearly inside its bucket. */
export function histogramQuantile(point: MetricPoint, q: number): number | undefined {
  const h = point.histogram;
  if (!h || h.count === 0) return undefined;
  const rank = q * h.count;
  let seen = 0;
  const { boundaries, counts } = h.buckets;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (count === 0 || seen + count < rank) {
      seen += count;
      continue;
    }
    const lower = Math.max(i === 0 ? (h.min ?? 0) : (boundaries[i - 1] ?? 0), h.min ?? 0);
    const upper = Math.min(
      i < boundaries.length ? (boundaries[i] ?? Infinity) : (h.max ?? lower),
      h.max ?? Infinity,
    );
    return lower + ((rank - seen) / count) * (upper - lower);
  }
  return h.max;
}

function mergeHistograms(points: MetricPoint[]): MetricPoint | undefined {
  const [first, ...rest] = points.filter((p) => p.histogram);
  if (!first?.histogram) return undefined;
  const merged = structuredClone(first);
  const h = merged.histogram!;
  for (const p of rest) {
    const other = p.histogram!;
    h.count += other.count;
    h.sum += other.sum;
    if (other.min !== undefined) h.min = Math.min(h.min ?? Infinity, other.min);
    if (other.max !== undefined) h.max = Math.max(h.max ?? -Infinity, other.max);
    other.buckets.counts.forEach((c, i) => {
      h.buckets.counts[i] = (h.buckets.counts[i] ?? 0) + c;
    });
  }
  return merged;
}

const ms = (seconds: number | undefined) =>
  seconds === undefined ? '-' : `${(seconds * 1000).toFixed(2)} ms`;

/** Messages sent and consumed per destination; process time and time in queue percentiles. */
export function renderMetrics(points: readonly MetricPoint[]): string {
  const destinations = [
    ...new Set(points.map((p) => p.attributes['messaging.destination.name']).filter(Boolean)),
  ]
    .map(String)
    .sort();
  const sum = (name: string, destination: string) =>
    points
      .filter((p) => p.name === name && p.attributes['messaging.destination.name'] === destination)
      .reduce((total, p) => total + (p.value ?? 0), 0);
  const errors = (destination: string) =>
    points
      .filter(
        (p) =>
          p.name === 'messaging.client.consumed.messages' &&
          p.attributes['messaging.destination.name'] === destination &&
          p.attributes['error.type'],
      )
      .reduce((total, p) => total + (p.value ?? 0), 0);
  const quantiles = (name: string, destination: string) => {
    const merged = mergeHistograms(
      points.filter(
        (p) => p.name === name && p.attributes['messaging.destination.name'] === destination,
      ),
    );
    if (!merged) return '-';
    return `p50 ${ms(histogramQuantile(merged, 0.5))}  p95 ${ms(histogramQuantile(merged, 0.95))}  p99 ${ms(histogramQuantile(merged, 0.99))}  (n=${merged.histogram?.count})`;
  };
  const lines = ['', bold("▶ metrics (from the services' OpenTelemetry meters)")];
  for (const destination of destinations) {
    lines.push(
      `  ${bold(destination)}: sent ${sum('messaging.client.sent.messages', destination)}, consumed ${sum('messaging.client.consumed.messages', destination)} (${errors(destination)} failed)`,
      `    process duration  ${quantiles('messaging.process.duration', destination)}`,
      `    time in queue     ${quantiles('baton.consumer.time_in_queue', destination)}`,
    );
  }
  lines.push(dim('  percentiles are interpolated inside histogram buckets'));
  return lines.join('\n');
}

/** The service map from each service's metric points (@baton/prometheus's serviceMap). */
export function renderServiceMap(services: readonly ServiceMetrics[]): string {
  const map = formatServiceMap(serviceMap(services)).trimEnd();
  return [
    '',
    bold(
      '▶ service map (from the metrics alone: sends joined with consumption on the destination)',
    ),
    ...map.split('\n').map((line) => `  ${line}`),
  ].join('\n');
}

/** One multi-process service's endpoints, and what they answered at the end of the run. */
export interface EndpointReport {
  service: string;
  /** `http://127.0.0.1:<port>`: `/metrics`, `/health`, `/health/ready`. */
  opsUrl: string;
  /** user_service's own API, `POST /users`. */
  apiUrl?: string;
  /** Status of `/health/ready`, and its reasons when not 200. */
  readyStatus: number;
  reasons: string[];
  /** Samples in `/metrics`, and how many carry an exemplar. */
  samples: number;
  exemplars: number;
}

/** Where each service listens, and what its endpoints said. */
export function renderEndpoints(endpoints: readonly EndpointReport[]): string {
  const lines = ['', bold('▶ service endpoints (free loopback ports)')];
  const width = Math.max(...endpoints.map((e) => e.service.length));
  for (const e of endpoints) {
    lines.push(
      `  ${e.service.padEnd(width)}  ${e.opsUrl}  /metrics: ${e.samples} samples, ${e.exemplars} with an exemplar;  /health/ready: ${e.readyStatus}${e.reasons.length ? ` ${JSON.stringify(e.reasons)}` : ''}${e.apiUrl ? `;  POST ${e.apiUrl}/users` : ''}`,
    );
  }
  return lines.join('\n');
}
