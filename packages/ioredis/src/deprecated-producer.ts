import type { MessagingTelemetry } from '@baton/core';
import { targetOf } from '@baton/core';
import type { FieldValue } from './types.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Payload fields of one entry, by name.
 * @deprecated with {@link StreamProducer.add}: pass the fields to `xadd` as ioredis takes them.
 */
export type StreamFields = Readonly<Record<string, FieldValue>>;

/**
 * How `XADD` trims and names the entry.
 * @deprecated with {@link StreamProducer.add}: pass the options to `xadd` as ioredis takes them.
 */
export interface AddOptions {
  /** An explicit entry id (`<ms>-<seq>` or `<ms>-*`). @defaultValue '*' (Redis assigns it) */
  id?: string;
  /** Trim to this many entries (`MAXLEN`). */
  maxLen?: number;
  /** Evict entries with ids lower than this (`MINID`). */
  minId?: string;
  /** Trim approximately (`~`) instead of exactly (`=`). @defaultValue false */
  approximate?: boolean;
  /** Most entries one approximate trim may evict (`LIMIT`). */
  limit?: number;
  /** Do not create the stream when it does not exist (`NOMKSTREAM`). @defaultValue false */
  noMkStream?: boolean;
}

/** ioredis's per-command callback in a pipeline. @deprecated with {@link StreamProducer.addTo}. */
export type AddCallback = (error?: Error | null, id?: string | null) => void;

/** A pipeline or a `multi()` of ioredis. @deprecated with {@link StreamProducer.addTo}. */
export interface PipelineLike {
  xadd(...args: [key: string, ...args: FieldValue[], callback: AddCallback]): unknown;
}

/**
 * The methods `traceProducer` returned before 0.2, kept on its view for one release.
 * @deprecated call `xadd` on the client `traceProducer` returns, or on its `pipeline()`.
 */
export interface StreamProducer {
  /**
   * A traced `XADD` of `fields` to `stream`; resolves to the entry id.
   * @deprecated `await traced.xadd(stream, '*', 'name', 'value')`
   */
  add(stream: string, fields: StreamFields, options?: AddOptions): Promise<string | null>;
  /**
   * Queues a traced `XADD` on `pipeline`; returns `pipeline`.
   * @deprecated `traced.pipeline().xadd(stream, '*', 'name', 'value')`
   */
  addTo<P extends PipelineLike>(
    pipeline: P,
    stream: string,
    fields: StreamFields,
    options?: AddOptions,
  ): P;
}

/**
 * The arguments of `XADD` after the key for {@link AddOptions}: `[NOMKSTREAM]
 * [MAXLEN|MINID =|~ threshold [LIMIT n]] id name value ...`. Fields whose value is
 * undefined or null are skipped.
 */
export function xaddArguments(
  fields: Readonly<Record<string, unknown>>,
  options: AddOptions | undefined,
): FieldValue[] {
  const args: FieldValue[] = [];
  if (options) {
    if (options.noMkStream) args.push('NOMKSTREAM');
    const trim: Array<[string, FieldValue | undefined]> = [
      ['MAXLEN', options.maxLen],
      ['MINID', options.minId],
    ];
    for (const [strategy, threshold] of trim) {
      if (threshold === undefined) continue;
      args.push(strategy, options.approximate ? '~' : '=', threshold);
      if (options.limit !== undefined) args.push('LIMIT', options.limit);
    }
  }
  args.push(options?.id ?? '*');
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    args.push(name, value as FieldValue);
  }
  return args;
}

/**
 * `add` and `addTo` for one release, on top of the traced `xadd` of a view: each warns
 * once that it is deprecated.
 */
export function deprecatedProducerMethods(
  telemetry: MessagingTelemetry,
  xadd: Method,
  xaddOn: (pipeline: object, args: unknown[]) => unknown,
): Record<'add' | 'addTo', Method> {
  const warn = (name: string, instead: string) =>
    telemetry.diagnostics.reportOnce(
      `deprecated ${name}`,
      `${name}() of traceProducer's result is deprecated and goes away in the next release; use`,
      instead,
    );
  return {
    add: (stream, fields, options) => {
      warn('add', "xadd(stream, '*', name, value, ...) on the client traceProducer returns");
      return xadd(stream, ...xaddArguments(fields as StreamFields, options as AddOptions));
    },
    addTo: (pipeline, stream, fields, options) => {
      warn(
        'addTo',
        'pipeline().xadd(...) or multi().xadd(...) on the client traceProducer returns',
      );
      xaddOn(targetOf(pipeline as object), [
        stream,
        ...xaddArguments(fields as StreamFields, options as AddOptions),
      ]);
      return pipeline;
    },
  };
}
