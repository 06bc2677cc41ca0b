import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type LogLine, waitFor } from '@baton/testing';
import type { BrokerBusKind } from './buses/index.js';
import type { DemoRun } from './in-process.js';
import { cannotExport, once } from './otlp-export.js';
import { startOtlpReceiver } from './otlp-receiver.js';
import type { RequestOutcome } from './report.js';
import { demoRequests, sendRequest } from './requests.js';

const SERVICES = ['audit_service', 'notification_service', 'user_service'] as const;
// From dist/ and from src/ (tests) alike: the services always run as built JavaScript.
const serviceMain = fileURLToPath(new URL('../dist/service-main.js', import.meta.url));

/**
 * Runs user_service, notification_service and audit_service as three processes over a real
 * broker. They export spans and metrics over OTLP to a receiver in this process (and it
 * forwards traces to OTEL_EXPORTER_OTLP_ENDPOINT when set) and log JSON to stdout.
 */
export async function runMultiProcessDemo(kind: BrokerBusKind): Promise<DemoRun> {
  const forwardTo = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const warn = once((message: string) => console.warn(message));
  const receiver = await startOtlpReceiver(forwardTo, (reason) =>
    warn(cannotExport(forwardTo ?? '', reason)),
  );
  const namespace = `baton-demo-${Date.now().toString(36)}`;
  const logs: LogLine[] = [];
  const children = new Map<string, ChildProcess>();
  const exited = new Map<string, number | null>();

  const start = (service: string) => {
    const child = spawn(process.execPath, [serviceMain, service, kind], {
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        BATON_DEMO_NAMESPACE: namespace,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(service, child);
    child.once('exit', (code) => exited.set(service, code));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (text) => {
        try {
          logs.push(JSON.parse(text) as LogLine);
        } catch {
          logs.push({ name: service, msg: text });
        }
      });
    }
  };
  const ready = async (service: string) => {
    const state = await waitFor(
      () =>
        exited.has(service)
          ? 'exited'
          : logs.some((l) => l.name === service && l.msg === 'ready') && 'ready',
      { timeoutMs: 20_000, message: `${service} to start on ${kind}` },
    );
    if (state === 'exited') {
      const last = logs.filter((l) => l.name === service).at(-1);
      throw new Error(`${service} exited: ${String(last?.msg ?? `code ${exited.get(service)}`)}`);
    }
  };

  const outcomes: RequestOutcome[] = [];
  try {
    for (const service of SERVICES) {
      start(service);
      await ready(service);
    }
    const listening = logs.find((l) => l.name === 'user_service' && typeof l.port === 'number');
    const url = `http://127.0.0.1:${String(listening?.port)}`;
    for (const request of demoRequests()) {
      const outcome = await sendRequest(url, request);
      outcomes.push(outcome);
      if (outcome.userId !== undefined) {
        await waitFor(
          () => logs.some((l) => l.name === 'audit_service' && l.user_id === outcome.userId),
          { timeoutMs: 20_000, message: `the audit record of ${outcome.userId}` },
        );
      }
    }
  } finally {
    for (const [service, child] of children) {
      if (!exited.has(service)) child.kill('SIGTERM');
    }
    await waitFor(() => exited.size === children.size, {
      timeoutMs: 15_000,
      message: 'the services to stop',
    }).catch(() => {
      for (const child of children.values()) child.kill('SIGKILL');
    });
    await receiver.close();
  }
  return { outcomes, spans: receiver.spans(), logs, metricPoints: receiver.metricPoints() };
}
