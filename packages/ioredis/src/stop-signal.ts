const ignore = () => {};

/** Raised into the read loop when `stop()` stops waiting for a Redis call. */
export class StopRequested extends Error {
  constructor() {
    super('@baton/ioredis: the consumer stopped before Redis answered');
    this.name = 'StopRequested';
  }
}

/**
 * Lets `stop()` give up on the Redis calls of the read loop when Redis cannot answer (it
 * is down, or the connection is gone): the calls keep running inside ioredis (an `XACK`
 * queued offline is still sent on reconnect), but the loop no longer waits for them.
 */
export class StopSignal {
  private readonly waiting = new Set<(error: Error) => void>();
  private fired = false;

  /** Rejects every call the loop waits for with {@link StopRequested}, and every later one. */
  fire(): void {
    this.fired = true;
    for (const reject of this.waiting) reject(new StopRequested());
    this.waiting.clear();
  }

  reset(): void {
    this.fired = false;
  }

  /** `promise`, or a {@link StopRequested} rejection once the signal fires. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.fired) {
      promise.catch(ignore);
      return Promise.reject(new StopRequested());
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      promise.then(resolve, reject).finally(() => this.waiting.delete(reject));
    });
  }
}
