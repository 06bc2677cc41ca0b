import { type Attributes, type HrTime, SpanKind } from '@opentelemetry/api';

/**
 * The parts of a finished span the tree functions read. The SDK's `SpanLike` fits, and
 * so do spans decoded from OTLP (the demo's multi-process runner uses that).
 */
export interface SpanLike {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): { traceId: string; spanId: string };
  readonly parentSpanContext?: { spanId: string } | undefined;
  readonly startTime: HrTime;
  readonly duration: HrTime;
  readonly status: { code: number };
  readonly attributes: Attributes;
  readonly resource?: { attributes: Attributes };
  readonly instrumentationScope: { name: string };
}

/** A span with its children, as one node of a trace tree. */
export interface TraceNode<S extends SpanLike = SpanLike> {
  span: S;
  children: TraceNode<S>[];
}

/** What a test expects of a trace: span names (or patterns), kinds and children. */
export interface TraceShape {
  name: string | RegExp;
  kind?: SpanKind;
  children?: TraceShape[];
}

const startMs = (span: SpanLike) => span.startTime[0] * 1e3 + span.startTime[1] / 1e6;
const durationMs = (span: SpanLike) => span.duration[0] * 1e3 + span.duration[1] / 1e6;

/**
 * Builds the trees of the given spans, one root per trace (spans whose parent is not among
 * them are roots), children ordered by start time.
 */
export function buildTraceTrees<S extends SpanLike>(spans: readonly S[]): TraceNode<S>[] {
  const nodes = new Map<string, TraceNode<S>>();
  for (const span of spans) nodes.set(span.spanContext().spanId, { span, children: [] });
  const roots: TraceNode<S>[] = [];
  for (const node of nodes.values()) {
    const parentId = node.span.parentSpanContext?.spanId;
    const parent = parentId ? nodes.get(parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: TraceNode<S>[]) => {
    list.sort((a, b) => startMs(a.span) - startMs(b.span));
    for (const node of list) sort(node.children);
  };
  sort(roots);
  return roots;
}

/** Options for {@link formatTraceTree}. */
export interface FormatOptions {
  /** Label for each span, e.g. its service name. @defaultValue the resource's service.name */
  label?: (span: SpanLike) => string;
  /** Width of the waterfall bar in characters. @defaultValue 32 */
  barWidth?: number;
}

const defaultLabel = (span: SpanLike) =>
  String(span.resource?.attributes['service.name'] ?? span.instrumentationScope.name);

/**
 * Renders spans as an indented tree with a waterfall: label, span name, start offset from
 * the root and duration, and a bar that shows where the span sits in time.
 */
export function formatTraceTree(spans: readonly SpanLike[], options: FormatOptions = {}): string {
  const label = options.label ?? defaultLabel;
  const barWidth = options.barWidth ?? 32;
  const lines: string[] = [];
  for (const root of buildTraceTrees(spans)) {
    const rows: Array<{ text: string; node: TraceNode }> = [];
    const walk = (node: TraceNode, prefix: string, last: boolean, depth: number) => {
      const branch = depth === 0 ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
      rows.push({ text: `${branch}${node.span.name}`, node });
      const childPrefix = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
      node.children.forEach((child, i) => {
        walk(child, childPrefix, i === node.children.length - 1, depth + 1);
      });
    };
    walk(root, '', true, 0);
    const t0 = Math.min(...rows.map((row) => startMs(row.node.span)));
    const t1 = Math.max(...rows.map((row) => startMs(row.node.span) + durationMs(row.node.span)));
    const total = Math.max(t1 - t0, 0.001);
    const nameWidth = Math.max(...rows.map((row) => row.text.length));
    const labelWidth = Math.max(...rows.map((row) => label(row.node.span).length));
    lines.push(`trace ${root.span.spanContext().traceId}  (${total.toFixed(1)} ms)`);
    for (const { text, node } of rows) {
      const offset = startMs(node.span) - t0;
      const duration = durationMs(node.span);
      const from = Math.min(barWidth - 1, Math.floor((offset / total) * barWidth));
      const width = Math.max(1, Math.round((duration / total) * barWidth));
      const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(width, barWidth - from))}`.padEnd(
        barWidth,
      );
      const status = node.span.status.code === 2 ? '  ✗ error' : '';
      lines.push(
        `  ${label(node.span).padEnd(labelWidth)}  ${text.padEnd(nameWidth)}  +${offset.toFixed(1).padStart(7)} ms ${duration.toFixed(1).padStart(7)} ms  |${bar}|${status}`,
      );
    }
  }
  return lines.join('\n');
}

function nameMatches(expected: string | RegExp, actual: string): boolean {
  return typeof expected === 'string' ? expected === actual : expected.test(actual);
}

function matchNode(shape: TraceShape, node: TraceNode): boolean {
  if (!nameMatches(shape.name, node.span.name)) return false;
  if (shape.kind !== undefined && shape.kind !== node.span.kind) return false;
  return matchChildren(shape.children ?? [], node.children);
}

// Each expected child needs its own actual child (backtracking; trees in tests are small).
function matchChildren(
  shapes: readonly TraceShape[],
  nodes: readonly TraceNode[],
  used = new Set<TraceNode>(),
): boolean {
  const [first, ...rest] = shapes;
  if (first === undefined) return true;
  for (const node of nodes) {
    if (used.has(node) || !matchNode(first, node)) continue;
    used.add(node);
    if (matchChildren(rest, nodes, used)) return true;
    used.delete(node);
  }
  return false;
}

/**
 * Throws unless some trace among `spans` has a root matching `shape` (children matched
 * unordered; extra actual children allowed). The error shows the actual trees.
 */
export function expectTraceTree<S extends SpanLike>(
  spans: readonly S[],
  shape: TraceShape,
): TraceNode<S> {
  const roots = buildTraceTrees(spans);
  const found = roots.find((root) => matchNode(shape, root));
  if (found) return found;
  const describe = (s: TraceShape, depth = 0): string =>
    `${'  '.repeat(depth)}${String(s.name)}${s.kind !== undefined ? ` (${SpanKind[s.kind]})` : ''}\n${(s.children ?? []).map((c) => describe(c, depth + 1)).join('')}`;
  throw new Error(
    `No trace matches the expected shape.\nExpected:\n${describe(shape)}Actual:\n${formatTraceTree(spans)}`,
  );
}
