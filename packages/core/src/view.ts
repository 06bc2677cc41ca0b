/** A function member of a client. */
export type Method = (...args: unknown[]) => unknown;
/** A traced replacement for a member of a client, whatever its parameters. */
export type Override = (...args: never[]) => unknown;

const targets = new WeakMap<object, object>();
const replaced = new WeakMap<object, ReadonlySet<PropertyKey>>();

/** The object `value` is a view of, or `value` itself. */
export function targetOf<T extends object>(value: T): T {
  return (targets.get(value) as T | undefined) ?? value;
}

/**
 * The object whose own `name` member a call of `client[name]` finally runs: `client`, or,
 * through views that do not replace `name`, the client under them. Adapters read another
 * instrumentation's wrapper on `owner[name]` and may call the function under it with
 * `owner` as `this`.
 */
export function methodOwner(client: object, name: PropertyKey): object {
  let owner = client;
  for (let target = targets.get(owner); target !== undefined; target = targets.get(owner)) {
    if (replaced.get(owner)?.has(name)) break;
    owner = target;
  }
  return owner;
}

/**
 * A view of a client in which `overrides` replace some members: what every adapter's
 * `traceProducer` / `traceConsumer` returns. The client is never modified. Every other
 * method runs with the client as `this` (its internals, private fields included, never
 * meet the proxy), and a method replaced on the client later is followed. A method (or
 * override) that returns the client itself (chaining: `pipeline.xadd(...).set(...)`,
 * `channel.on(...)`) returns the view instead, so calls chained after it stay traced.
 */
export function viewOf<T extends object>(
  target: T,
  overrides: Readonly<Record<string, Override>>,
): T {
  const bound = new Map<PropertyKey, { original: unknown; call: Method }>();
  const own = new Map<PropertyKey, Method>();
  for (const [name, override] of Object.entries(overrides)) {
    own.set(name, (...args) => {
      const result = (override as Method)(...args);
      return result === target ? view : result;
    });
  }
  const view: T = new Proxy(target, {
    get(object, property) {
      const override = own.get(property);
      if (override !== undefined) return override;
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      let cached = bound.get(property);
      // Clients replace some methods per instance (ioredis's exec of a multi()): follow.
      if (cached === undefined || cached.original !== value) {
        const call: Method = (...args) => {
          const result = (value as Method).apply(object, args);
          return result === object ? view : result;
        };
        cached = { original: value, call };
        bound.set(property, cached);
      }
      return cached.call;
    },
  });
  targets.set(view, target);
  replaced.set(view, new Set(own.keys()));
  return view;
}
