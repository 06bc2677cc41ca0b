import { connect } from 'node:net';

/**
 * True when a TCP connection to `address` opens within `timeoutMs`. `address` is a URL
 * (`redis://host:port`, `amqp://user:pass@host`) or `host:port` (the first of a comma
 * separated broker list); `defaultPort` fills in a missing port. Clients such as ioredis
 * and kafkajs retry an unreachable server for a long time; this answers at once.
 */
export function isReachable(
  address: string,
  defaultPort: number,
  timeoutMs = 1500,
): Promise<boolean> {
  let host = '127.0.0.1';
  let port = defaultPort;
  try {
    if (address.includes('://')) {
      const url = new URL(address);
      host = url.hostname || host;
      port = Number(url.port) || defaultPort;
    } else {
      const [first = ''] = address.split(',');
      const [h, p] = first.trim().split(':');
      host = h || host;
      port = Number(p) || defaultPort;
    }
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
