/**
 * A view of `target` in which the `overrides` replace some members. Every other member is
 * the target's own, with functions bound to the target (clients built from classes with
 * private fields, like @confluentinc/kafka-javascript, need their own `this`). The target
 * is never modified.
 */
export function delegateTo<T extends object>(target: T, overrides: Record<string, unknown>): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as string];
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      let fn = bound.get(property);
      if (fn === undefined || (fn as { original?: unknown }).original !== value) {
        const wrapped = Object.assign(
          (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(object, args),
          { original: value },
        );
        bound.set(property, wrapped);
        fn = wrapped;
      }
      return fn;
    },
  });
}
