import type { RunningDemo, ServiceName } from './multi-process.js';
import type { EndpointReport } from './report.js';

/** An OpenMetrics sample line (not a comment), and whether it carries an exemplar. */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+/;

/** Asks each service's `/health/ready` and `/metrics`, as Kubernetes and Prometheus would. */
export async function probeEndpoints(demo: RunningDemo): Promise<EndpointReport[]> {
  const reports: EndpointReport[] = [];
  for (const [service, opsUrl] of Object.entries(demo.opsUrls) as Array<[ServiceName, string]>) {
    const ready = await fetch(`${opsUrl}/health/ready`);
    const readiness = (await ready.json()) as { reasons?: string[] };
    const exposition = await (await fetch(`${opsUrl}/metrics`)).text();
    const samples = exposition.split('\n').filter((line) => SAMPLE.test(line));
    reports.push({
      service,
      opsUrl,
      ...(service === 'user_service' && { apiUrl: demo.apiUrl }),
      readyStatus: ready.status,
      reasons: readiness.reasons ?? [],
      samples: samples.length,
      exemplars: samples.filter((line) => line.includes(' # {')).length,
    });
  }
  return reports;
}
