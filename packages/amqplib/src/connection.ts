import type { ServerAddress } from './message.js';

// What Baton reads of amqplib's own connection object (`channel.connection`, the same in
// 0.10, 1.x and 2.x, promise and callback API): its socket, and its 'close' event, which
// carries the reason of a broker-forced close (CONNECTION_FORCED) or a socket error.
interface AmqpConnection {
  stream?: { remoteAddress?: unknown; remotePort?: unknown };
  on?: (event: 'close', listener: (error?: unknown) => void) => unknown;
}

function connectionOf(channel: unknown): AmqpConnection | undefined {
  const connection = (channel as { connection?: unknown } | null)?.connection;
  return connection !== null && typeof connection === 'object'
    ? (connection as AmqpConnection)
    : undefined;
}

/**
 * `server.address` / `server.port` of a channel's connection, from its socket: read once
 * it is known, then the same object every time (it is part of the attribute cache key).
 */
export function serverOf(channel: unknown): () => ServerAddress | undefined {
  let known: ServerAddress | undefined;
  return () => {
    if (known !== undefined) return known;
    const stream = connectionOf(channel)?.stream;
    const address = stream?.remoteAddress;
    const port = stream?.remotePort;
    if (typeof address !== 'string' || address === '') return undefined;
    known = { serverAddress: address };
    if (typeof port === 'number') known.serverPort = port;
    return known;
  };
}

type CloseListener = (error: unknown) => void;
// One 'close' listener per connection, however many traced channels it has (one each
// would pass EventEmitter's leak warning at 11 channels). Weak: a connection that is gone
// takes its set with it.
const watchers = new WeakMap<object, Set<CloseListener>>();

/**
 * Calls `listener` with the error a channel's connection closes with (if it does), until
 * `stop` is called. amqplib closes every channel before it emits the connection's 'close':
 * a channel's own 'close' listener may call `stop` after a microtask and still hear it.
 */
export function watchConnectionClose(channel: unknown, listener: CloseListener): { stop(): void } {
  const connection = connectionOf(channel);
  if (connection === undefined || typeof connection.on !== 'function') return { stop() {} };
  let listeners = watchers.get(connection);
  if (listeners === undefined) {
    const set = new Set<CloseListener>();
    listeners = set;
    watchers.set(connection, set);
    connection.on('close', (error) => {
      for (const each of [...set]) each(error);
      set.clear();
    });
  }
  listeners.add(listener);
  const own = listeners;
  return { stop: () => own.delete(listener) };
}
