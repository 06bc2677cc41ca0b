import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  runWalkthrough,
  scaleRuleDurations,
  type Walkthrough,
} from '@baton/example-user-notification/walkthrough';
import { SpanKind } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import { repoPath } from './prometheus/names.js';
import { prometheusToolOrSkip } from './prometheus/server.js';

// `npm run demo -- --bus redis --walkthrough`, as a test: the chain it prints must hold,
// from the firing alert to the exemplar, to the trace that exemplar names, to its logs.
const binary = prometheusToolOrSkip('prometheus');
const promtool = binary && prometheusToolOrSkip('promtool');
const redis = binary && (await brokerOrSkip('redis'));

describe.skipIf(!promtool)("the walkthrough's copy of the rules", () => {
  it('is valid for promtool, with the same rules and every duration scaled down', async () => {
    const shipped = await readFile(repoPath('observability/prometheus/baton-rules.yml'), 'utf8');
    const scaled = scaleRuleDurations(shipped);
    expect(scaled).toContain(
      'avg_over_time(baton_group:baton_consumer_time_in_queue_seconds:p95_5m[120s])',
    );
    expect(scaled).toContain('rate(messaging_client_sent_messages_total[10s])');
    expect(scaled).toContain('p95_5m_avg_1d offset 5s');
    expect(scaled).not.toMatch(/\[\d+[mhd]\]|offset \d+[mhd]|^\s+for: \d+[mhd]/m);
    expect(scaled.match(/^\s+for: 1s$/gm)).toHaveLength(4); // 10m
    expect(scaled.match(/^\s+for: 2s$/gm)).toHaveLength(1); // 15m
    const dir = await mkdtemp(join(tmpdir(), 'baton-scaled-rules-'));
    try {
      await writeFile(join(dir, 'rules.yml'), scaled);
      const { stdout } = await promisify(execFile)(promtool as string, [
        'check',
        'rules',
        join(dir, 'rules.yml'),
      ]);
      expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!redis)('the walkthrough over Redis', () => {
  let run: Walkthrough;
  let printed = '';

  beforeAll(async () => {
    run = await runWalkthrough('redis', (text) => {
      printed += text;
    });
  }, 180_000);

  it('starts from the time-in-queue alert firing for notification_service', () => {
    expect(run.alert).toMatchObject({
      state: 'firing',
      labels: {
        alertname: 'BatonTimeInQueueAboveBaseline',
        job: 'notification_service',
        messaging_consumer_group_name: 'notification_service',
        messaging_destination_name: expect.stringMatching(/:user\.registered$/),
      },
    });
    expect(printed).toContain('BatonTimeInQueueAboveBaseline firing');
  });

  it("follows an exemplar from after the spike began to that trace's notification_service process span", () => {
    const { exemplar, traceSpans } = run;
    expect(exemplar.timestamp).toBeGreaterThanOrEqual(run.spikeStartedAt);
    expect(traceSpans.map((s) => s.spanContext().traceId)).toEqual(
      traceSpans.map(() => exemplar.traceId),
    );
    const process = traceSpans.find((s) => s.spanContext().spanId === exemplar.spanId);
    expect(process?.name).toMatch(/^process .*:user\.registered$/);
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.resource?.attributes['service.name']).toBe('notification_service');
    expect(new Set(traceSpans.map((s) => s.resource?.attributes['service.name']))).toEqual(
      new Set(['user_service', 'notification_service', 'audit_service']),
    );
    expect(printed).toContain(`trace_id=${exemplar.traceId} span_id=${exemplar.spanId}`);
    expect(printed).toContain(`trace ${exemplar.traceId}`);
  });

  it("ends at that trace's log lines, from the three services", () => {
    const { exemplar, logLines } = run;
    expect(logLines.map((l) => l.trace_id)).toEqual(logLines.map(() => exemplar.traceId));
    expect(new Set(logLines.map((l) => l.name))).toEqual(
      new Set(['user_service', 'notification_service', 'audit_service']),
    );
    const sent = logLines.find((l) => l.msg === 'welcome email sent');
    expect(sent?.span_id).toBe(exemplar.spanId);
    for (const line of logLines) expect(printed).toContain(JSON.stringify(line));
  });
});
