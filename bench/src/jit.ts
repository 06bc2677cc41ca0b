import { execFileSync } from 'node:child_process';
import { runChild } from './compare.js';
import type { Plan, VariantName } from './measure.js';

// The warm-up check by V8's own account: one child per variant under --trace-opt
// --trace-deopt, its trace lines counted per phase (warm-up chunks, measured round). The
// measured round is steady state when it compiles and deoptimizes (almost) nothing.
// V8 writes its trace with C stdio, block-buffered into a pipe; `stdbuf -oL` keeps it in
// order with the child's phase markers.

interface PhaseCounts {
  compiles: number;
  deopts: number;
  /** Sum of the compile times V8 reports (all three phases of each job), ms. */
  compileMs: number;
}

function hasStdbuf(): boolean {
  try {
    execFileSync('stdbuf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function countByPhase(stdout: string): Map<string, PhaseCounts> {
  const phases = new Map<string, PhaseCounts>();
  let current: PhaseCounts = { compiles: 0, deopts: 0, compileMs: 0 };
  phases.set('set-up', current);
  for (const line of stdout.split('\n')) {
    if (line.startsWith('#bench-phase ')) {
      current = { compiles: 0, deopts: 0, compileMs: 0 };
      phases.set(line.slice('#bench-phase '.length), current);
    } else if (line.startsWith('[compiling method')) current.compiles++;
    else if (line.startsWith('[bailout')) current.deopts++;
    else if (line.startsWith('[completed compiling')) {
      const took = /took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
      if (took) current.compileMs += Number(took[1]) + Number(took[2]) + Number(took[3]);
    }
  }
  return phases;
}

/** Prints, per variant, what V8 compiled and deoptimized in each phase of one child. */
export function jitCheck(scenario: string, variants: VariantName[], plan: Plan): string {
  const prefix = hasStdbuf() ? ['stdbuf', '-oL'] : [];
  const node = [process.execPath, '--trace-opt', '--trace-deopt'];
  const lines = [
    `  JIT check (${plan.messages} messages per phase): compilations / deopts / compile ms per phase${prefix.length ? '' : ' (no stdbuf: phases may be misattributed)'}`,
  ];
  for (const variant of variants) {
    const { stdout } = runChild(scenario, variant, plan, {
      command: [...prefix, ...node],
      phases: true,
    });
    const cells = [...countByPhase(stdout)]
      .filter(([phase]) => phase !== 'teardown')
      .map(([phase, c]) => `${phase} ${c.compiles}/${c.deopts}/${c.compileMs.toFixed(0)}`);
    lines.push(`  ${variant.padEnd(28)} ${cells.join(' | ')}`);
  }
  return lines.join('\n');
}
