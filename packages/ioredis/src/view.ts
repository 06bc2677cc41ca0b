type Method = (...args: unknown[]) => unknown;

const targets = new WeakMap<object, object>();

/** The object `value` is a view of, or `value` itself. */
export function targetOf<T extends object>(value: T): T {
  return (targets.get(value) as T | undefined) ?? value;
}

/**
 * A view of `target` in which `overrides` replace some members; the target is never
 * modified. Every other method runs with the target as `this` (its internals never meet
 * the proxy). A method (or override) that returns the target (chaining:
 * `pipeline.xadd(...).set(...)`, `redis.on(...)`) returns the view instead, so calls
 * chained after it stay traced.
 */
export function viewOf<T extends object>(
  target: T,
  overrides: Readonly<Record<string, Method>>,
): T {
  const bound = new Map<PropertyKey, { original: unknown; call: Method }>();
  const own = new Map<PropertyKey, Method>();
  for (const [name, override] of Object.entries(overrides)) {
    own.set(name, (...args) => {
      const result = override(...args);
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
      // ioredis replaces some methods per instance (exec of a multi()): follow the change.
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
  return view;
}
