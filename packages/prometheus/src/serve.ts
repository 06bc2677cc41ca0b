import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Diagnostics } from '@baton/core';

/** Answers a scrape: 200 with the exposition, or 500 (and one warning) when it failed. */
export async function serve(
  metrics: () => Promise<string>,
  contentType: () => string,
  diagnostics: Diagnostics,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    const body = await metrics();
    response.writeHead(200, { 'content-type': contentType() });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch (error) {
    diagnostics.warnOnce('metrics collection', error);
    try {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      }
      response.end('metrics collection failed\n');
    } catch {
      // the connection is gone: nothing left to tell
    }
  }
}
