import {
  type RunningDemo,
  SERVICES,
  startMultiProcessDemo,
} from '@baton/example-user-notification/multi-process';
import { waitFor } from '@baton/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import {
  BATON_METRICS,
  DOCUMENTED_SERIES,
  EXEMPLAR_LABELS,
  isPrometheusOwnSeries,
  labelProblems,
  repoPath,
} from './prometheus/names.js';
import {
  prometheusToolOrSkip,
  type RunningPrometheus,
  startPrometheus,
  targetsUp,
} from './prometheus/server.js';

// The demo's three processes over a real broker, each serving /metrics through
// @baton/prometheus; a real Prometheus (Debian's, exemplar storage on, the shipped rules)
// scrapes them, job = service name, while registrations keep flowing.
const binary = prometheusToolOrSkip('prometheus');
const RULES = repoPath('observability/prometheus/baton-rules.yml');
const buses = [
  ['redis', binary && (await brokerOrSkip('redis'))],
  ['rabbitmq', binary && (await brokerOrSkip('rabbitmq'))],
] as const;

/** One half of a service-map edge, as the baton_edge: rules keep it. */
interface Half {
  job: string;
  system: string;
  destination: string;
}

// The edges `producer -> event -> consumer` from the rules' two halves, joined exactly on
// the destination (RabbitMQ's consumer halves carry their producers' `{exchange}:{routing
// key}`, from baton_destination_published_name). The event is the routing key / stream
// after the namespace.
function edges(producers: Half[], consumers: Half[], namespace: string): string[] {
  const joined: string[] = [];
  for (const p of producers) {
    for (const c of consumers) {
      if (p.system === c.system && c.destination === p.destination) {
        joined.push(`${p.job} -> ${p.destination.replace(`${namespace}:`, '')} -> ${c.job}`);
      }
    }
  }
  return joined.sort();
}

// With no Prometheus (or no broker) nothing below runs: say so as a skipped test, since a
// file without tests fails the run (prometheusToolOrSkip has already printed why).
if (!buses.some(([, url]) => url)) {
  describe('a real Prometheus scraping the demo', () => {
    it.skip("needs Debian's prometheus and Redis or RabbitMQ", () => {});
  });
}

describe.each(buses.filter(([, url]) => url))(
  'a real Prometheus scraping the demo over %s',
  (bus) => {
    let demo: RunningDemo;
    let prometheus: RunningPrometheus;
    let flowing = true;
    let traffic: Promise<void>;

    beforeAll(async () => {
      demo = await startMultiProcessDemo(bus);
      prometheus = await startPrometheus(binary as string, {
        targets: SERVICES.map((job) => ({ job, address: new URL(demo.opsUrls[job]).host })),
        ruleFiles: [RULES],
      });
      await targetsUp(prometheus, SERVICES.length);
      // Registrations after the first scrape, so that every rate has an increase to see.
      traffic = (async () => {
        for (let n = 0; flowing && n < 400; n++) {
          await demo.request({
            title: `registration ${n}`,
            body: JSON.stringify({ name: `User ${n}`, email: `user${n}@example.com` }),
          });
        }
      })();
    });

    afterAll(async () => {
      flowing = false;
      await traffic?.catch(() => {});
      await prometheus?.stop();
      await demo?.stop();
    });

    type Sample = Awaited<ReturnType<RunningPrometheus['api']['query']>>[number];
    // Waits until the query returns series (all of `jobs`' when given, in `label`).
    const query = (expr: string, jobs: string[] = [], label = 'job') =>
      waitFor(
        async () => {
          const found = await prometheus.api.query(expr);
          const seen = new Set(found.map((s) => s.metric[label]));
          return found.length > 0 &&
            found.every((s) => s.value[1] !== 'NaN') &&
            jobs.every((job) => seen.has(job))
            ? found
            : undefined;
        },
        { timeoutMs: 30_000, message: `${expr} from ${jobs.join(', ') || 'any job'}` },
      );
    const jobsOf = (samples: Sample[], label = 'job') =>
      new Set(samples.map((s) => s.metric[label]));

    it('stores the documented series with the documented labels, from the three services', async () => {
      // Every series each service serves (pending: Redis's PEL only).
      const expected = BATON_METRICS.filter(
        (m) => bus === 'redis' || m.otel !== 'baton.consumer.pending',
      );
      for (const metric of expected) {
        for (const name of metric.series) {
          for (const sample of await query(name)) {
            expect(labelProblems(metric, name, Object.keys(sample.metric))).toEqual([]);
          }
        }
      }
      const producers = ['user_service', 'notification_service'];
      const consumers = ['notification_service', 'audit_service'];
      const sent = await query('messaging_client_sent_messages_total', producers);
      expect(jobsOf(sent)).toEqual(new Set(producers));
      const consumed = await query('messaging_client_consumed_messages_total', consumers);
      expect(jobsOf(consumed)).toEqual(new Set(consumers));
      expect(jobsOf(consumed, 'messaging_system')).toEqual(new Set([bus]));
      expect(jobsOf(await query('baton_consumer_lag', consumers))).toEqual(new Set(consumers));
      const all = await prometheus.api.series(`{job=~"${SERVICES.join('|')}"}`);
      const names = new Set(all.map((labels) => labels.__name__ as string));
      expect(
        [...names].filter((name) => !DOCUMENTED_SERIES.has(name) && !isPrometheusOwnSeries(name)),
      ).toEqual([]);
    });

    it('returns exemplars whose trace ids are in the spans the demo exported', async () => {
      const cases = [
        ['messaging_client_sent_messages_total', 'user_service', /^send /],
        ['messaging_client_operation_duration_seconds_bucket', 'user_service', /^send /],
        ['messaging_process_duration_seconds_bucket', 'notification_service', /^process /],
        ['baton_consumer_time_in_queue_seconds_bucket', 'audit_service', /^process /],
      ] as const;
      for (const [name, job, spanName] of cases) {
        const now = Date.now() / 1000;
        const series = await waitFor(
          async () => {
            const found = await prometheus.api.queryExemplars(
              `${name}{job="${job}"}`,
              now - 300,
              now + 300,
            );
            return found.some((s) => s.exemplars.length > 0) ? found : undefined;
          },
          { timeoutMs: 20_000, message: `exemplars of ${name}` },
        );
        for (const exemplar of series.flatMap((s) => s.exemplars)) {
          expect(Object.keys(exemplar.labels).sort(), name).toEqual([...EXEMPLAR_LABELS].sort());
          // The services export their spans every 100 ms: wait for this one.
          const span = await waitFor(
            () =>
              demo
                .spans()
                .find(
                  (s) =>
                    s.spanContext().spanId === exemplar.labels.span_id &&
                    s.spanContext().traceId === exemplar.labels.trace_id,
                ),
            { timeoutMs: 10_000, message: `the span of ${name}'s exemplar` },
          );
          expect(span.name).toMatch(spanName);
          expect(span.resource?.attributes['service.name']).toBe(job);
        }
      }
    });

    it('gives the service map edges user_service -> user.registered -> notification_service -> notification.sent -> audit_service', async () => {
      const half =
        (label: 'producer_job' | 'consumer_job') => (s: { metric: Record<string, string> }) => ({
          job: s.metric[label] as string,
          system: s.metric.messaging_system as string,
          destination: s.metric.messaging_destination_name as string,
        });
      const producers = (
        await query(
          'baton_edge:messaging_client_sent_messages:rate5m > 0',
          ['user_service', 'notification_service'],
          'producer_job',
        )
      ).map(half('producer_job'));
      for (const rule of [
        'baton_edge:messaging_client_consumed_messages:rate5m > 0',
        'baton_edge:messaging_client_consumed_messages:failed_ratio5m',
        'baton_edge:messaging_process_duration_seconds:p95_5m',
        'baton_edge:baton_consumer_time_in_queue_seconds:p95_5m',
      ]) {
        const samples = await query(
          rule,
          ['notification_service', 'audit_service'],
          'consumer_job',
        );
        // The consumer's own name stays beside the joined one: with the queue on RabbitMQ.
        for (const { metric } of samples) {
          const own = metric.consumer_destination_name ?? '';
          if (bus === 'rabbitmq') {
            expect(own.startsWith(`${metric.messaging_destination_name}:`)).toBe(true);
          } else expect(own).toBe(metric.messaging_destination_name);
        }
        const consumers = samples.map(half('consumer_job'));
        expect(edges(producers, consumers, demo.namespace), rule).toEqual([
          'notification_service -> notification.sent -> audit_service',
          'user_service -> user.registered -> notification_service',
        ]);
      }
    });

    it('evaluates every shipped rule without an error', async () => {
      const rules = await waitFor(
        async () => {
          const all = (await prometheus.api.rules()).flatMap((g) => g.rules);
          return all.every((r) => r.lastEvaluation > '2000') ? all : undefined;
        },
        { timeoutMs: 20_000, message: 'every rule evaluated' },
      );
      expect(rules.length).toBeGreaterThan(20);
      expect(
        rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
      ).toEqual([]);
    });
  },
);
