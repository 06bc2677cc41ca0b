import type { Redis } from 'ioredis';
import { withBufferCommands } from './replies.js';

const ignore = () => {};

/** The read in flight ended because its connection closed (its reply, if any, is lost). */
export class ConnectionLost extends Error {
  constructor() {
    super('@baton/ioredis: the connection of the blocking XREADGROUP closed');
    this.name = 'ConnectionLost';
  }
}

/**
 * The connection the blocking `XREADGROUP` runs on (BLOCK ties a connection up), with what
 * the runner needs to know about it: whether it is ready, whether it reconnected (a read's
 * reply may have been lost), its `CLIENT ID` (for `CLIENT UNBLOCK`), and one report per
 * outage instead of one per reconnect attempt.
 */
export class BlockingConnection {
  readonly redis: Redis;
  private readonly owned: boolean;
  private clientId: number | undefined;
  private rejectRead: ((error: Error) => void) | undefined;
  private readyWaiter: (() => void) | undefined;
  private closes = 0;
  private outageReported = false;

  /**
   * @param given the user's own connection, or undefined to duplicate `client`
   * @param reportOutage told about the first error of each outage
   */
  constructor(
    client: Redis,
    given: Redis | undefined,
    private readonly reportOutage: (error: unknown) => void,
  ) {
    this.owned = given === undefined;
    // A read in flight when the connection drops is not resent on reconnect: its BLOCK would
    // hold the new connection before the runner can re-read the entries whose reply was
    // lost. (ioredis never settles an unsent command; the 'close' listener rejects it.)
    this.redis = given ?? client.duplicate({ autoResendUnfulfilledCommands: false });
    // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt.
    if (this.owned) this.redis.on('error', this.onError);
    this.redis.on('ready', this.onReady);
    this.redis.on('close', this.onClose);
    if (this.ready) this.refreshClientId(); // else on 'ready'
  }

  /** True when the connection can take a command now. */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** The server-side id of a ready connection, for `CLIENT UNBLOCK`. */
  get id(): number | undefined {
    return this.ready ? this.clientId : undefined;
  }

  /** How often the connection closed: when it grows, a read's reply may have been lost. */
  get closeCount(): number {
    return this.closes;
  }

  /** Resolves when the connection is ready (at once when it is). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    // A lazyConnect connection connects on its first command; here nothing else sends one.
    if (this.redis.status === 'wait') this.redis.connect().catch(ignore);
    return new Promise((resolve) => {
      this.readyWaiter = resolve;
    });
  }

  /** One `XREADGROUP` with Buffer replies; rejects with {@link ConnectionLost} on a close. */
  read(args: Array<string | number>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.rejectRead = reject;
      withBufferCommands(this.redis)
        .xreadgroupBuffer(...args)
        .then(resolve, reject)
        .finally(() => {
          if (this.rejectRead === reject) this.rejectRead = undefined;
        });
    });
  }

  /** Reports `error` unless this outage was reported already. */
  outage(error: unknown): void {
    if (this.outageReported) return;
    this.outageReported = true;
    this.reportOutage(error);
  }

  /** The loop made progress again: the next failure is a new outage. */
  recovered(): void {
    this.outageReported = false;
  }

  /** Stops listening; closes the connection when it is the runner's own. */
  close(): void {
    this.redis.off('ready', this.onReady);
    this.redis.off('close', this.onClose);
    if (!this.owned) return;
    // disconnect(), not quit(): QUIT would wait in the offline queue while Redis is down.
    this.redis.disconnect();
    // Keep a listener: errors may still surface while the socket closes.
    this.redis.off('error', this.onError);
    this.redis.on('error', ignore);
  }

  private readonly onError = (error: unknown) => this.outage(error);

  private readonly onReady = () => {
    this.refreshClientId();
    const waiter = this.readyWaiter;
    this.readyWaiter = undefined;
    waiter?.();
  };

  private readonly onClose = () => {
    this.clientId = undefined;
    this.closes += 1;
    const reject = this.rejectRead;
    this.rejectRead = undefined;
    const lost = new ConnectionLost();
    // An outage is reported when it starts, whatever the runner was doing: with no read in
    // flight (handlers running) and a reconnect that succeeds at once, no command would
    // ever fail, and the outage would go unreported.
    this.outage(lost);
    reject?.(lost);
  };

  // A reconnect gives the connection a new id. Without one (say, an ACL that denies
  // CLIENT), stop() closes the connection instead of unblocking it.
  private refreshClientId(): void {
    this.redis
      .client('ID')
      .then((id) => {
        if (this.ready) this.clientId = id;
      })
      .catch(ignore);
  }
}
