import { formatTraceTree } from '@baton/testing';
import { TIME_SCALE } from './scaled-rules.js';
import type { Walkthrough } from './walkthrough.js';

const clock = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(11, 19);
const ms = (seconds: number) =>
  seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;

/** The walkthrough as text: each step with what Prometheus, the spans and the logs said. */
export function renderWalkthrough(
  run: Walkthrough,
  setup: { slowSmtpMs: number; perSecond: number },
): string {
  const { alert, exemplar } = run;
  const firedAfter = Date.parse(alert.activeAt) / 1000 - run.spikeStartedAt;
  const lines = [
    `Walkthrough over ${run.kind}: from a time-in-queue alert to the exemplar, the trace and its logs`,
    `(Prometheus scrapes the three services' /metrics; its rules are the shipped ones with every duration divided by ${TIME_SCALE}:`,
    ' a day of baseline is 2 minutes, `offset 1h` is 5 s, `for: 10m` is 1 s, rate windows are 10 s)',
    '',
    `1. steady traffic, ${setup.perSecond} registrations/s: notification_service's p95 time in queue averages ${ms(run.baselineP95Seconds)}`,
    `2. ${clock(run.spikeStartedAt)}: notification_service's SMTP relay turns slow (${setup.slowSmtpMs} ms per email, one at a time)`,
    `3. the alert (GET /api/v1/alerts), active ${firedAfter.toFixed(0)} s after the spike began:`,
    `   ${alert.labels.alertname} ${alert.state}, value ${Number(alert.value).toFixed(1)}`,
    `   labels: ${JSON.stringify(alert.labels)}`,
    `   summary: ${alert.annotations.summary ?? ''}`,
    `   description: ${alert.annotations.description ?? ''}`,
    '4. the slowest exemplar since the spike began (GET /api/v1/query_exemplars?query=baton_consumer_time_in_queue_seconds_bucket{job="notification_service"}):',
    `   bucket le="${exemplar.bucket}": ${ms(exemplar.value)} in queue at ${clock(exemplar.timestamp)}  trace_id=${exemplar.traceId} span_id=${exemplar.spanId}`,
    '5. that trace, from the spans the services exported over OTLP:',
    ...formatTraceTree(run.traceSpans, {
      label: (s) => String(s.resource?.attributes['service.name'] ?? '?'),
    })
      .split('\n')
      .map((line) => `   ${line}`),
    `6. its log lines (the services' JSON logs where trace_id=${exemplar.traceId}):`,
    ...run.logLines.map((line) => `   ${JSON.stringify(line)}`),
  ];
  return lines.join('\n');
}
