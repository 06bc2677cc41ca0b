import { randomBytes } from 'node:crypto';
import type { RequestOutcome } from './report.js';

/** One HTTP request the demo makes to user_service. */
export interface DemoRequest {
  title: string;
  body: string;
  headers?: Record<string, string>;
}

/** The registrations the demo drives: plain, with caller context, with a retried failure, bad input. */
export function demoRequests(): DemoRequest[] {
  const callerTraceId = randomBytes(16).toString('hex');
  return [
    {
      title: 'POST /users: a new user, no incoming context (a fresh trace and correlation id)',
      body: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com' }),
    },
    {
      title:
        "POST /users: the caller's traceparent and correlation id are kept; its baggage is not trusted, its API key names the tenant",
      body: JSON.stringify({ name: 'Alan Turing', email: 'alan@example.com' }),
      headers: {
        traceparent: `00-${callerTraceId}-${randomBytes(8).toString('hex')}-01`,
        'x-correlation-id': 'checkout-7f3a9c',
        baggage: 'tenant_id=evil,user_id=spoofed',
        'x-api-key': 'demo-key-acme',
      },
    },
    {
      title: 'POST /users: the welcome email fails once and is retried',
      body: JSON.stringify({ name: 'Grace Hopper', email: 'flaky.grace@example.com' }),
    },
    {
      title: 'POST /users: a malformed traceparent and an unsafe correlation id are replaced',
      body: JSON.stringify({ name: 'Edsger Dijkstra', email: 'edsger@example.com' }),
      headers: {
        traceparent: '00-not-a-real-trace-01',
        'x-correlation-id': 'drop table users; -- <script>',
      },
    },
    { title: 'POST /users: bad JSON is rejected with 400', body: '{"name": "Ada",' },
    {
      title: 'POST /users: missing and invalid fields are rejected with 400',
      body: JSON.stringify({ name: '', email: 'not-an-email' }),
    },
  ];
}

/** Sends one request and records what came back. */
export async function sendRequest(baseUrl: string, request: DemoRequest): Promise<RequestOutcome> {
  const response = await fetch(`${baseUrl}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: request.body,
  });
  const responseBody = (await response.json()) as Record<string, unknown>;
  const traceparent = response.headers.get('traceparent') ?? undefined;
  return {
    title: request.title,
    status: response.status,
    responseBody,
    correlationId: response.headers.get('x-correlation-id') ?? undefined,
    traceparent,
    traceId: traceparent?.split('-')[1],
    userId: typeof responseBody.id === 'string' ? responseBody.id : undefined,
  };
}
