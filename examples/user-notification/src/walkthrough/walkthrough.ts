import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LogLine, type SpanLike, waitFor } from '@baton/testing';
import type { BrokerBusKind } from '../buses/index.js';
import { type RunningDemo, SERVICES, startMultiProcessDemo } from '../multi-process.js';
import {
  type AlertState,
  findExecutable,
  type RunningPrometheus,
  startPrometheus,
  targetsUp,
} from '../prometheus/index.js';
import { sendRequest } from '../requests.js';
import { renderWalkthrough } from './render.js';
import { scaleRuleDurations, TIME_SCALE } from './scaled-rules.js';

const RULES = fileURLToPath(
  new URL('../../../../observability/prometheus/baton-rules.yml', import.meta.url),
);
const ALERT = 'BatonTimeInQueueAboveBaseline';
const JOB = 'notification_service';
const SLOW_SMTP_MS = 400;
const REGISTRATIONS_PER_SECOND = 10;
/** Baseline points (one per second) before the incident starts. */
const BASELINE_POINTS = 20;
const TIME_IN_QUEUE = `baton_consumer_time_in_queue_seconds_bucket{job="${JOB}"}`;

/** One exemplar as `query_exemplars` returns it. */
export interface WalkthroughExemplar {
  traceId: string;
  spanId: string;
  /** Seconds in queue. */
  value: number;
  /** The `le` of the bucket it belongs to. */
  bucket: string;
  timestamp: number;
}

/** What the walkthrough found, step by step (and printed through `print`). */
export interface Walkthrough {
  kind: BrokerBusKind;
  baselineP95Seconds: number;
  spikeStartedAt: number;
  alert: AlertState;
  exemplar: WalkthroughExemplar;
  traceSpans: SpanLike[];
  logLines: LogLine[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Steady registrations, paced (this is load, not a wait for a condition), until stopped.
function steadyTraffic(demo: RunningDemo): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const body = JSON.stringify({ name: `User ${n}`, email: `user${n}@example.com` });
      await sendRequest(demo.apiUrl, { title: 'steady', body }).catch(() => {});
      await sleep(1000 / REGISTRATIONS_PER_SECOND);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

async function scalar(prometheus: RunningPrometheus, expr: string): Promise<number | undefined> {
  const [sample] = await prometheus.api.query(expr);
  return sample === undefined ? undefined : Number(sample.value[1]);
}

/** The slowest time-in-queue exemplar of notification_service since `since` (unix s). */
async function slowestExemplar(
  prometheus: RunningPrometheus,
  since: number,
): Promise<WalkthroughExemplar | undefined> {
  const series = await prometheus.api.queryExemplars(TIME_IN_QUEUE, since, Date.now() / 1000 + 60);
  let slowest: WalkthroughExemplar | undefined;
  for (const { seriesLabels, exemplars } of series) {
    for (const { labels, value, timestamp } of exemplars) {
      if (timestamp < since || (slowest && Number(value) <= slowest.value)) continue;
      slowest = {
        traceId: labels.trace_id ?? '',
        spanId: labels.span_id ?? '',
        value: Number(value),
        bucket: seriesLabels.le ?? '',
        timestamp,
      };
    }
  }
  return slowest;
}

/**
 * Runs the demo over a broker with Prometheus scraping it, makes notification_service's
 * SMTP relay slow, and follows the incident: the firing time-in-queue alert, the exemplar
 * of the slowest bucket, that trace's tree and its log lines. Prometheus loads a copy of
 * the shipped rules whose durations are divided by {@link TIME_SCALE}.
 */
export async function runWalkthrough(
  kind: BrokerBusKind,
  print: (text: string) => void = (text) => console.log(text),
): Promise<Walkthrough> {
  const binary = findExecutable('prometheus');
  if (binary === undefined) {
    throw new Error('the walkthrough needs prometheus on PATH (apt-get install prometheus)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'baton-walkthrough-'));
  const rules = join(dir, 'baton-rules.walkthrough.yml');
  await writeFile(rules, scaleRuleDurations(await readFile(RULES, 'utf8')));
  const demo = await startMultiProcessDemo(kind, { spike: true });
  let prometheus: RunningPrometheus | undefined;
  let traffic: { stop(): Promise<void> } | undefined;
  try {
    prometheus = await startPrometheus(binary, {
      targets: SERVICES.map((job) => ({ job, address: new URL(demo.opsUrls[job]).host })),
      ruleFiles: [rules],
    });
    await targetsUp(prometheus, SERVICES.length);
    traffic = steadyTraffic(demo);
    const api = prometheus;
    const p95 = `baton_group:baton_consumer_time_in_queue_seconds:p95_5m{job="${JOB}"}`;
    await waitFor(
      async () => ((await scalar(api, `count_over_time(${p95}[5m])`)) ?? 0) >= BASELINE_POINTS,
      { timeoutMs: 90_000, intervalMs: 500, message: 'a baseline of time in queue' },
    );
    const baselineP95Seconds =
      (await scalar(
        api,
        `baton_group:baton_consumer_time_in_queue_seconds:p95_5m_avg_1d{job="${JOB}"}`,
      )) ?? 0;

    const spikeStartedAt = Date.now() / 1000;
    await fetch(`${demo.opsUrls[JOB]}/spike?delay_ms=${SLOW_SMTP_MS}`, { method: 'POST' });
    const alert = await waitFor(
      async () =>
        (await api.api.alerts()).find(
          (a) => a.labels.alertname === ALERT && a.labels.job === JOB && a.state === 'firing',
        ),
      { timeoutMs: 90_000, intervalMs: 250, message: `${ALERT} firing` },
    );
    await fetch(`${demo.opsUrls[JOB]}/spike`, { method: 'DELETE' });
    const exemplar = await waitFor(() => slowestExemplar(api, spikeStartedAt), {
      timeoutMs: 10_000,
      message: 'an exemplar of the spike',
    });
    // The trace is complete once audit_service has handled its notification.sent.
    const traceSpans = await waitFor(
      () => {
        const spans = demo.spans().filter((s) => s.spanContext().traceId === exemplar.traceId);
        const audited = spans.some(
          (s) => s.resource?.attributes['service.name'] === 'audit_service',
        );
        return audited ? spans : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: `the spans of trace ${exemplar.traceId}` },
    );
    const logLines = demo.logs.filter((line) => line.trace_id === exemplar.traceId);
    const result: Walkthrough = {
      kind,
      baselineP95Seconds,
      spikeStartedAt,
      alert,
      exemplar,
      traceSpans,
      logLines,
    };
    print(
      renderWalkthrough(result, { slowSmtpMs: SLOW_SMTP_MS, perSecond: REGISTRATIONS_PER_SECOND }),
    );
    return result;
  } finally {
    await traffic?.stop();
    await prometheus?.stop();
    await demo.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
