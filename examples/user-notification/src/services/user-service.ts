import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CORRELATION_HEADER,
  edgeContext,
  getCorrelationId,
  injectContext,
  runWithContext,
} from '@baton/core';
import {
  type Context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DemoBus } from '../bus.js';

/** What `user_service` needs. */
export interface UserServiceOptions {
  bus: DemoBus;
  logger: Logger;
  tracer: Tracer;
  /** @defaultValue 0 (any free port) */
  port?: number;
}

const MAX_BODY_BYTES = 16 * 1024;
// Stands in for real authentication: the tenant comes from what the caller proved, never
// from baggage the caller sent (edgeContext drops that by default).
const TENANTS_BY_API_KEY: Readonly<Record<string, string>> = Object.freeze({
  'demo-key-acme': 'acme',
});

function withTenant(ctx: Context, apiKey: string | string[] | undefined): Context {
  const tenant = typeof apiKey === 'string' ? TENANTS_BY_API_KEY[apiKey] : undefined;
  if (tenant === undefined) return ctx;
  const baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  return propagation.setBaggage(ctx, baggage.setEntry('tenant_id', { value: tenant }));
}
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[A-Za-z]{2,}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function validateUser(body: unknown): { name: string; email: string } {
  if (typeof body !== 'object' || body === null)
    throw new HttpError(400, 'body must be a JSON object');
  const { name, email } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
    problems.push('name must be a non-empty string of at most 100 characters');
  }
  if (typeof email !== 'string' || !EMAIL.test(email))
    problems.push('email must be an email address');
  if (problems.length > 0) throw new HttpError(400, problems.join('; '));
  return { name: (name as string).trim(), email: email as string };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // The caller gets the correlation id and our span's traceparent back.
  const { traceparent } = injectContext({});
  res.setHeader(CORRELATION_HEADER, getCorrelationId() ?? '');
  if (traceparent) res.setHeader('traceparent', traceparent);
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** `user_service`: `POST /users` registers a user and publishes `user.registered`. */
export async function startUserService(
  options: UserServiceOptions,
): Promise<{ url: string; server: Server }> {
  const { bus, logger, tracer } = options;

  async function registerUser(req: IncomingMessage, res: ServerResponse): Promise<number> {
    try {
      if (req.method !== 'POST' || req.url !== '/users') throw new HttpError(404, 'not found');
      const user = { id: randomUUID(), ...validateUser(await readJson(req)) };
      logger.info({ user_id: user.id }, 'registering user');
      await bus.publish('user.registered', user);
      logger.info({ user_id: user.id }, 'user registered; welcome email queued');
      send(res, 201, { id: user.id });
      return 201;
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 503;
      const message = error instanceof HttpError ? error.message : 'could not register the user';
      logger.warn(
        { status, err: error instanceof HttpError ? undefined : error },
        `request rejected: ${message}`,
      );
      send(res, status, { error: message });
      return status;
    }
  }

  const server = createServer((req, res) => {
    // Baton: continue the caller's trace and correlation id, or start fresh valid ones. The
    // caller's baggage is dropped (an untrusted edge); the tenant comes from its API key.
    const ctx = withTenant(edgeContext(req.headers), req.headers['x-api-key']);
    const span = tracer.startSpan(
      `${req.method} /users`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? '', 'url.path': req.url ?? '' },
      },
      ctx,
    );
    runWithContext(trace.setSpan(ctx, span), registerUser, req, res).then(
      (status) => {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
      (error: unknown) => {
        logger.error({ err: error }, 'response failed');
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'user_service listening');
  return { url: `http://127.0.0.1:${port}`, server };
}
