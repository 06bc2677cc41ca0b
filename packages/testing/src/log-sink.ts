/** A parsed JSON log line. */
export type LogLine = Record<string, unknown>;

/** A destination for pino that keeps every line, parsed, for assertions. */
export interface LogSink {
  /** Pass as pino's destination: `pino(options, sink.stream)`. */
  readonly stream: { write(chunk: string): void };
  /** Every line written so far. */
  lines(): LogLine[];
  /** Lines whose `trace_id` is `traceId`. */
  linesForTrace(traceId: string): LogLine[];
  clear(): void;
}

/** Creates a {@link LogSink}. Lines that are not JSON are kept as `{ msg: line }`. */
export function createLogSink(): LogSink {
  let lines: LogLine[] = [];
  return {
    stream: {
      write(chunk: string) {
        for (const text of chunk.split('\n')) {
          if (text.trim() === '') continue;
          try {
            lines.push(JSON.parse(text) as LogLine);
          } catch {
            lines.push({ msg: text });
          }
        }
      },
    },
    lines: () => lines.slice(),
    linesForTrace: (traceId) => lines.filter((line) => line.trace_id === traceId),
    clear() {
      lines = [];
    },
  };
}
