// A stand-in for an ioredis client, shaped like ioredis's own classes: commands take a
// trailing node-style callback, pipelines queue commands and answer them on exec(), and
// chaining methods return `this`. Each XADD is recorded as sent.

type Callback = (error: Error | null, reply?: unknown) => void;

function splitCallback(args: unknown[]): [unknown[], Callback | undefined] {
  const last = args.at(-1);
  return typeof last === 'function' ? [args.slice(0, -1), last as Callback] : [args, undefined];
}

export class FakePipeline {
  readonly queued: Array<{ args: unknown[]; callback: Callback | undefined; reply: unknown }> = [];

  constructor(
    readonly redis: FakeRedis,
    readonly transaction: boolean,
  ) {}

  xadd(...given: unknown[]): this {
    const [args, callback] = splitCallback(given);
    this.queued.push({ args: ['xadd', ...args], callback, reply: this.redis.answer(args) });
    return this;
  }

  set(key: string, value: string): this {
    this.queued.push({ args: ['set', key, value], callback: undefined, reply: 'OK' });
    return this;
  }

  addBatch(commands: unknown[][]): this {
    for (const [name, ...args] of commands) {
      (this as unknown as Record<string, (...a: unknown[]) => unknown>)[name as string]!(...args);
    }
    return this;
  }

  async exec(): Promise<Array<[Error | null, unknown]>> {
    const results: Array<[Error | null, unknown]> = [];
    for (const command of this.queued) {
      if (command.args[0] === 'xadd') this.redis.sent.push(command.args.slice(1));
      const reply = this.transaction ? 'QUEUED' : command.reply;
      const error = reply instanceof Error ? reply : null;
      command.callback?.(error, error ? undefined : reply);
      results.push([error, error ? null : command.reply]);
    }
    return results;
  }
}

export class FakeRedis {
  readonly options = { host: 'redis.internal', port: 6380 };
  readonly sent: unknown[][] = [];
  readonly listeners: string[] = [];
  /** What XADD answers: an id (the explicit one, if any), or an Error to reject with. */
  reply: (args: unknown[]) => unknown = (args) =>
    args.find((arg) => typeof arg === 'string' && /^\d{13}-\d+$/.test(arg)) ?? '1718000000000-0';

  answer(args: unknown[]): unknown {
    return this.reply(args);
  }

  xadd(...given: unknown[]): Promise<unknown> {
    const [args, callback] = splitCallback(given);
    this.sent.push(args);
    const reply = this.answer(args);
    const promise = reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
    if (callback) {
      promise.then(
        (id) => callback(null, id),
        (error: Error) => callback(error),
      );
    }
    return promise;
  }

  xaddBuffer(...given: unknown[]): Promise<unknown> {
    return this.xadd(...given).then((id) => (typeof id === 'string' ? Buffer.from(id) : id));
  }

  async set(_key: string, _value: string): Promise<'OK'> {
    return 'OK';
  }

  on(event: string, _listener: () => void): this {
    this.listeners.push(event);
    return this;
  }

  pipeline(commands?: unknown[][]): FakePipeline {
    const pipeline = new FakePipeline(this, false);
    if (Array.isArray(commands)) pipeline.addBatch(commands);
    return pipeline;
  }

  multi(
    commands?: unknown[][] | { pipeline?: boolean },
    options?: { pipeline?: boolean },
  ): FakePipeline | Promise<'OK'> {
    const opts = Array.isArray(commands) ? options : commands;
    if (opts?.pipeline === false) return Promise.resolve('OK');
    const pipeline = new FakePipeline(this, true);
    if (Array.isArray(commands)) pipeline.addBatch(commands);
    return pipeline;
  }
}

/** The fields of one recorded XADD: the pairs after its id, at `idIndex`. */
export function fieldPairs(args: readonly unknown[], idIndex: number): Array<[unknown, unknown]> {
  const pairs: Array<[unknown, unknown]> = [];
  for (let i = idIndex + 1; i + 1 < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
  return pairs;
}
