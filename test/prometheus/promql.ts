import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';

/** What a PromQL expression selects: metric names and the label names it mentions. */
export interface PromqlUse {
  metrics: string[];
  labels: string[];
}

/**
 * Parses `expr` with the Prometheus project's own PromQL grammar (the one its UI uses) and
 * returns the metric names of its selectors and every label name in matchers and
 * `by`/`without`/`on`/`ignoring`/`group_*` clauses. Throws on a syntax error, and on a
 * selector without a metric name (`{__name__=~...}`), which no name check could follow.
 */
export function promqlUses(expr: string): PromqlUse {
  const metrics = new Set<string>();
  const labels = new Set<string>();
  const cursor = parser.parse(expr).cursor();
  do {
    const text = expr.slice(cursor.from, cursor.to);
    if (cursor.type.isError) {
      throw new Error(`PromQL syntax error at ${cursor.from} in: ${expr}`);
    }
    if (cursor.name === 'VectorSelector') {
      const name = cursor.node.getChild('Identifier');
      if (!name) throw new Error(`selector without a metric name (${text}) in: ${expr}`);
      metrics.add(expr.slice(name.from, name.to));
    }
    if (cursor.name === 'LabelName') labels.add(text);
  } while (cursor.next());
  return { metrics: [...metrics], labels: [...labels] };
}

/**
 * The metric and label names in `expr` that are not in `known`. Also throws when `expr`
 * selects nothing by name, so an expression cannot pass by using no metric at all.
 */
export function unknownNames(
  expr: string,
  known: { metrics: ReadonlySet<string>; labels: ReadonlySet<string> },
): { metrics: string[]; labels: string[] } {
  const uses = promqlUses(expr);
  if (uses.metrics.length === 0) throw new Error(`no metric selected in: ${expr}`);
  return {
    metrics: uses.metrics.filter((name) => !known.metrics.has(name)),
    labels: uses.labels.filter((label) => !known.labels.has(label)),
  };
}

/** An expression found in a shipped file, with where it came from. */
export interface ShippedExpression {
  source: string;
  expr: string;
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}

/** The rules of a Prometheus rule file: recording-rule names and every expression. */
export function readRuleFile(path: string): {
  recorded: string[];
  alerts: string[];
  expressions: ShippedExpression[];
} {
  const file = parseYaml(readFileSync(path, 'utf8')) as RuleFile;
  const rules = file.groups.flatMap((group) => group.rules);
  return {
    recorded: rules.flatMap((rule) => (rule.record ? [rule.record] : [])),
    alerts: rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])),
    expressions: rules.map((rule) => ({
      source: `rule ${rule.record ?? rule.alert}`,
      expr: rule.expr.trim(),
    })),
  };
}

interface Target {
  refId: string;
  expr?: string;
  format?: string;
  exemplar?: boolean;
  instant?: boolean;
}

interface Panel {
  title?: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; definition?: string }> };
}

/** A dashboard panel with its queries, the Grafana variables in them already expanded. */
export interface DashboardPanel {
  title: string;
  type: string;
  targets: Array<Target & { expr: string }>;
}

/**
 * The panels of a Grafana dashboard (rows flattened) with their PromQL, Grafana variables
 * expanded by {@link expandGrafanaVariables}, and the labels its `label_values(...)`
 * variables list.
 */
export function readDashboard(path: string): {
  panels: DashboardPanel[];
  expressions: ShippedExpression[];
  variableLabels: string[];
} {
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
  const variables = dashboard.templating.list.map((variable) => variable.name);
  const panels = dashboard.panels
    .flatMap((panel) => [panel, ...(panel.panels ?? [])])
    .map((panel) => ({
      title: panel.title ?? '',
      type: panel.type,
      targets: (panel.targets ?? []).map((target) => {
        if (!target.expr) throw new Error(`panel "${panel.title}" ${target.refId} has no expr`);
        return { ...target, expr: expandGrafanaVariables(target.expr, variables) };
      }),
    }));
  const expressions = panels.flatMap((panel) =>
    panel.targets.map((target) => ({
      source: `panel "${panel.title}" ${target.refId}`,
      expr: target.expr,
    })),
  );
  const variableLabels = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      // Only the one-argument form, label_values(<label>): no metric name to check.
      const match = /^label_values\((\w+)\)$/.exec(variable.definition ?? '');
      if (!match?.[1]) {
        throw new Error(`variable ${variable.name}: unexpected query ${variable.definition}`);
      }
      return match[1];
    });
  return { panels, expressions, variableLabels };
}

/**
 * Replaces the Grafana variables a Baton dashboard uses with values Prometheus accepts:
 * `$__rate_interval` (and `$__interval`, `$__range`) by a duration, a `$name` or `${name}`
 * variable by `.*`. Anything else that starts with `$` is left, so that it fails to parse.
 */
export function expandGrafanaVariables(expr: string, variables: readonly string[]): string {
  let result = expr.replace(/\$__(rate_interval|interval|range)\b/g, '1m');
  for (const name of variables) {
    result = result.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}\\b`, 'g'), '.*');
  }
  return result;
}
