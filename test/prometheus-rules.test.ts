import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from './prometheus/names.js';
import { readRuleFile } from './prometheus/promql.js';
import { prometheusToolOrSkip } from './prometheus/server.js';

// The shipped rules and the Docker stack's Prometheus config, checked by Debian's promtool.
// baton-rules.test.yml holds the rule unit tests: every alert fires where it should and
// stays quiet through a busy but steady hour and through short blips.
const promtool = prometheusToolOrSkip('promtool');
const dir = repoPath('observability/prometheus');

async function runPromtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool as string, args, {
      cwd: dir,
      timeout: 120_000,
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message };
  }
}

describe.skipIf(!promtool)('the shipped Prometheus files, checked by promtool', () => {
  it('accepts every rule in baton-rules.yml', async () => {
    const { recorded, alerts } = readRuleFile(`${dir}/baton-rules.yml`);
    const result = await runPromtool('check', 'rules', 'baton-rules.yml');
    expect(result.output).toContain(`SUCCESS: ${recorded.length + alerts.length} rules found`);
    expect(result.ok, result.output).toBe(true);
  });

  it('passes the rule unit tests: each alert fires, and stays quiet when it should', async () => {
    const result = await runPromtool('test', 'rules', 'baton-rules.test.yml');
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain('SUCCESS');
  }, 120_000);

  it('has unit tests for every alert: at least one firing case and one quiet case', () => {
    const { alerts } = readRuleFile(`${dir}/baton-rules.yml`);
    const tests = parse(readFileSync(`${dir}/baton-rules.test.yml`, 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const alert of alerts) {
      const own = cases.filter((c) => c.alertname === alert);
      expect(
        own.some((c) => c.exp_alerts.length > 0),
        `${alert} has a firing case`,
      ).toBe(true);
      expect(
        own.some((c) => c.exp_alerts.length === 0),
        `${alert} has a quiet case`,
      ).toBe(true);
    }
  });

  it("accepts the Docker stack's Prometheus config and the rules it loads", async () => {
    const result = await runPromtool('check', 'config', 'prometheus.yml');
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(
      'SUCCESS: prometheus.yml is valid prometheus config file syntax',
    );
    expect(result.output).toContain('SUCCESS: 1 rule files found');
  });
});
