import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrometheusMetrics } from '@baton/prometheus';
import type { ServiceReadiness } from './readiness.js';
import type { SmtpSpike } from './spike.js';

/** What {@link startOpsServer} serves. */
export interface OpsServerOptions {
  /** `/metrics`: @baton/prometheus's endpoint. */
  metrics: PrometheusMetrics;
  /** `/health/ready`: read on every request. */
  readiness: () => ServiceReadiness;
  /** `POST /spike?delay_ms=N` / `DELETE /spike`: only when given (the walkthrough's switch). */
  spike?: SmtpSpike;
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** The address to listen on. @defaultValue '127.0.0.1' (loopback only) */
  host?: string;
}

/** A running ops server. */
export interface OpsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);

function route(options: OpsServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const { pathname, searchParams } = new URL(req.url ?? '/', 'http://localhost');
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (pathname === '/metrics' && read) {
    void options.metrics.handler(req, res);
  } else if (pathname === '/health' && read) {
    json(res, 200, { status: 'alive' });
  } else if (pathname === '/health/ready' && read) {
    const readiness = options.readiness();
    json(res, readiness.ready ? 200 : 503, readiness);
  } else if (pathname === '/spike' && options.spike && req.method === 'POST') {
    const delayMs = Number(searchParams.get('delay_ms') ?? 400);
    if (!Number.isFinite(delayMs) || delayMs <= 0) {
      json(res, 400, { error: 'delay_ms must be a positive number' });
      return;
    }
    options.spike.start(delayMs);
    json(res, 200, { spike: 'on', delay_ms: delayMs });
  } else if (pathname === '/spike' && options.spike && req.method === 'DELETE') {
    options.spike.stop();
    json(res, 200, { spike: 'off' });
  } else {
    json(res, 404, { error: 'not found' });
  }
}

/**
 * The HTTP endpoints a service exposes to its platform, on loopback: `/metrics`
 * (OpenMetrics with exemplars), `/health` (alive: the process answers) and
 * `/health/ready` (200, or 503 with the reasons as JSON).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    try {
      route(options, req, res);
    } catch (error) {
      json(res, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  // A port in use rejects (EADDRINUSE) rather than crashing the process.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
