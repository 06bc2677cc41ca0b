import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MetricPoint } from '../telemetry.js';
import {
  type AttributeSpec,
  COMMON_SPAN_ATTRIBUTES,
  DURATION_BUCKETS,
  forbiddenKeysFor,
  keysFor,
  METRICS,
  OPERATION_KINDS,
  type OperationTypeName,
  type SpanKindName,
  type Stability,
  SYSTEMS,
} from './spec.js';

/** One way a span or metric point breaks the contract. */
export interface ContractViolation {
  /** The span name or metric name. */
  subject: string;
  rule: string;
  detail: string;
}

/** What to check. */
export interface ContractInput {
  spans: readonly ReadableSpan[];
  points: readonly MetricPoint[];
  /** The attribute names in force. @defaultValue 'old' */
  stability?: Stability;
  /** The adapters' `consumerSpanRelation`. @defaultValue 'parent' */
  consumerSpanRelation?: 'parent' | 'link';
}

const KIND_NAMES: Record<number, SpanKindName> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const isBaton = (span: ReadableSpan) => span.instrumentationScope.name.startsWith('@baton/');
const systemKey = (stability: Stability) =>
  stability === 'stable' ? 'messaging.system.name' : 'messaging.system';

function allowedSpanKeys(
  system: string | undefined,
  stability: Stability,
  operation: OperationTypeName,
) {
  const specs: AttributeSpec[] = [...COMMON_SPAN_ATTRIBUTES];
  const own = system !== undefined ? SYSTEMS[system] : undefined;
  if (own) specs.push(...own.attributes);
  const allowed = new Set<string>();
  const forbidden = new Set<string>();
  const required: string[] = [];
  for (const spec of specs) {
    for (const key of forbiddenKeysFor(spec, stability)) forbidden.add(key);
    if (!spec.on.includes(operation)) continue;
    for (const key of keysFor(spec, stability)) {
      allowed.add(key);
      if (spec.requirement === 'required') required.push(key);
    }
  }
  return { allowed, forbidden, required };
}

function checkSpan(
  span: ReadableSpan,
  byId: ReadonlyMap<string, ReadableSpan>,
  input: Required<Pick<ContractInput, 'stability' | 'consumerSpanRelation'>>,
  report: (rule: string, detail: string) => void,
): void {
  const attributes = span.attributes;
  const operation = attributes['messaging.operation.type'] as OperationTypeName | undefined;
  if (operation === undefined || !(operation in OPERATION_KINDS)) {
    report('operation-type', `messaging.operation.type is ${String(operation)}`);
    return;
  }
  const system = attributes[systemKey(input.stability)] as string | undefined;
  if (system === undefined || SYSTEMS[system] === undefined) {
    report('system', `${systemKey(input.stability)} is ${String(system)}, not a documented system`);
  }
  // Name: `{operation} {destination}`, the template when there is one.
  const destination =
    (attributes['messaging.destination.template'] as string | undefined) ??
    (attributes['messaging.destination.name'] as string | undefined);
  const expectedName = `${String(attributes['messaging.operation.name'])} ${String(destination)}`;
  if (span.name !== expectedName) report('span-name', `expected "${expectedName}"`);
  // Kind per operation type; a CLIENT send links the contexts its messages keep.
  const kind = KIND_NAMES[span.kind] ?? 'INTERNAL';
  if (!(OPERATION_KINDS[operation] as readonly string[]).includes(kind)) {
    report('span-kind', `${operation} span is ${kind}`);
  }
  if (operation === 'send' && kind === 'CLIENT' && span.links.length === 0) {
    report('send-client-links', 'a CLIENT send must link the creation context its messages keep');
  }
  // Attributes: required present, nothing undocumented, no names of the other stability mode.
  const { allowed, forbidden, required } = allowedSpanKeys(system, input.stability, operation);
  for (const key of required) {
    if (attributes[key] === undefined) report('required-attribute', `${key} missing`);
  }
  for (const key of Object.keys(attributes)) {
    if (forbidden.has(key))
      report('stability', `${key} is not emitted in '${input.stability}' mode`);
    else if (!allowed.has(key))
      report('undocumented-attribute', `${key} is not in the contract for ${operation} spans`);
  }
  const failed = span.status.code === SpanStatusCode.ERROR;
  if (failed !== (attributes['error.type'] !== undefined)) {
    report(
      'error-type',
      failed ? 'failed span without error.type' : 'error.type on a span that did not fail',
    );
  }
  if (
    system !== undefined &&
    SYSTEMS[system]?.processConsumerGroup === 'required' &&
    operation === 'process'
  ) {
    if (attributes['messaging.consumer.group.name'] === undefined) {
      report('required-attribute', 'messaging.consumer.group.name missing on a process span');
    }
  }
  const count = attributes['messaging.batch.message_count'];
  if (count !== undefined && (typeof count !== 'number' || count < 0)) {
    report('batch-count', `messaging.batch.message_count is ${String(count)}`);
  }
  if (operation === 'process' && count === undefined) checkSingleProcess(span, byId, input, report);
  if (operation === 'process' && typeof count === 'number' && span.links.length > count) {
    report('batch-links', `${span.links.length} links for ${count} messages`);
  }
}

// A single message's process span links its creation context; in 'parent' mode it is
// also its child, in 'link' mode never.
function checkSingleProcess(
  span: ReadableSpan,
  byId: ReadonlyMap<string, ReadableSpan>,
  input: Required<Pick<ContractInput, 'consumerSpanRelation'>>,
  report: (rule: string, detail: string) => void,
): void {
  const parentId = span.parentSpanContext?.spanId;
  const parent = parentId !== undefined ? byId.get(parentId) : undefined;
  const parentIsCreation =
    parent !== undefined &&
    isBaton(parent) &&
    ['send', 'create'].includes(String(parent.attributes['messaging.operation.type']));
  const linked = new Set(span.links.map((link) => link.context.spanId));
  if (input.consumerSpanRelation === 'link') {
    if (parentIsCreation)
      report('link-mode', "a 'link' mode process span must not be the producer's child");
    return;
  }
  if (parentIsCreation && parentId !== undefined && !linked.has(parentId)) {
    report('creation-link', 'the process span does not link its creation context (its parent)');
  }
  if (span.links.length > 2)
    report('process-links', `${span.links.length} links on a single-message process span`);
}

function checkPoint(
  point: MetricPoint,
  stability: Stability,
  report: (rule: string, detail: string) => void,
): void {
  const spec = METRICS.find((metric) => metric.name === point.name);
  if (spec === undefined) {
    report('undocumented-metric', `${point.name} is not in the contract`);
    return;
  }
  if (point.unit !== spec.unit) report('metric-unit', `unit ${point.unit}, expected ${spec.unit}`);
  const shape = point.histogram !== undefined ? 'histogram' : 'value';
  if ((spec.instrument === 'histogram') !== (shape === 'histogram')) {
    report('metric-instrument', `a ${spec.instrument} reported as ${shape}`);
  }
  if (point.histogram !== undefined) {
    const boundaries = point.histogram.buckets.boundaries;
    if (boundaries.join(',') !== DURATION_BUCKETS.join(',')) {
      report('metric-buckets', `boundaries ${boundaries.join(',')} are not the semconv advice`);
    }
  }
  const keys = Object.keys(point.attributes);
  const system = systemKey(stability);
  const required = [system, ...spec.required];
  const allowed = new Set<string>([
    ...required,
    ...spec.optional,
    'messaging.destination.name',
    'messaging.destination.template',
  ]);
  if (stability === 'dup') allowed.add('messaging.system');
  for (const key of required) {
    if (point.attributes[key] === undefined) report('metric-attribute', `${key} missing`);
  }
  const destinations = ['messaging.destination.name', 'messaging.destination.template'].filter(
    (key) => point.attributes[key] !== undefined,
  );
  if (destinations.length !== 1) {
    report(
      'metric-destination',
      `carries ${destinations.length === 0 ? 'no destination' : 'both the name and the template'}`,
    );
  }
  for (const key of keys) {
    if (!allowed.has(key))
      report('metric-attribute', `${key} is not an attribute of ${point.name}`);
  }
}

/** Every way `input` breaks Baton's telemetry contract; empty when it conforms. */
export function checkContract(input: ContractInput): ContractViolation[] {
  const stability = input.stability ?? 'old';
  const consumerSpanRelation = input.consumerSpanRelation ?? 'parent';
  const violations: ContractViolation[] = [];
  const byId = new Map(input.spans.map((span) => [span.spanContext().spanId, span]));
  for (const span of input.spans) {
    if (!isBaton(span)) continue;
    checkSpan(span, byId, { stability, consumerSpanRelation }, (rule, detail) =>
      violations.push({ subject: `span "${span.name}"`, rule, detail }),
    );
  }
  for (const point of input.points) {
    if (!point.name.startsWith('messaging.') && !point.name.startsWith('baton.')) continue;
    checkPoint(point, stability, (rule, detail) =>
      violations.push({ subject: `metric ${point.name}`, rule, detail }),
    );
  }
  return violations;
}

/** Throws an error listing every violation, if there is one. */
export function assertContract(input: ContractInput): void {
  const violations = checkContract(input);
  if (violations.length === 0) return;
  const unique = [...new Set(violations.map((v) => `${v.subject}: [${v.rule}] ${v.detail}`))];
  throw new Error(`telemetry contract violated:\n  ${unique.join('\n  ')}`);
}
