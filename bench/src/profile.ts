// Where the time goes, per message: `node dist/profile.js <scenario> <variant>
// [messages] [warmupMessages]`, e.g. `node dist/profile.js redis "baton, no SDK"`.
// Runs one child under `node --perf-prof --interpreted-frames-native-stack`, warms it up,
// attaches `perf record -g` (cpu-clock) to the measured round only, and prints CPU µs per
// message by owner (Baton's packages, OpenTelemetry, the client, Node), by function (the
// innermost JS function, with the builtins, runtime and GC below it), and inclusive per
// Baton function. Needs Linux `perf` (Debian: linux-perf) and permission to use it.
// `--cpu-prof` misattributes samples on these VMs; perf with V8's JIT dump does not.
// The profiles go to a temporary directory, removed afterwards (`--keep` keeps it).
// perf sees only physical frames: what V8 inlined is charged to the function it was
// inlined into. `--no-inline` turns inlining off (slower overall, but every function
// shows as itself), to break down a big entry point such as core's `publish`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildResult } from './measure.js';
import { type Profile, readProfile } from './perf-samples.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const keep = process.argv.includes('--keep');
const noInline = process.argv.includes('--no-inline');
const [scenario = 'redis', variant = 'baton, no SDK', messagesArg, warmupArg] = args;
const messages = Number(messagesArg ?? 50_000);
const warmup = Number(warmupArg ?? 150_000);
const FREQUENCY = 2999;
const TOP = 30;

const dir = mkdtempSync(join(tmpdir(), 'baton-profile-'));
const child = spawn(
  process.execPath,
  [
    '--perf-prof',
    '--interpreted-frames-native-stack',
    ...(noInline ? ['--no-turbo-inlining', '--no-maglev-inlining'] : []),
    fileURLToPath(new URL('./child.js', import.meta.url)),
    scenario,
    variant,
    String(messages),
    String(warmup),
    '--wait',
  ],
  { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] }, // the JIT dump lands in cwd
);
const childPid = child.pid as number;

const exited = (process: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (process.exitCode !== null) resolve();
    else process.once('exit', () => resolve());
  });

let perf: ChildProcess | undefined;
let result: ChildResult | undefined;
for await (const line of createInterface({ input: child.stdout })) {
  if (line === '#bench-phase measured') {
    // Every thread the child has by now (main, GC/JIT workers, libuv) is recorded.
    perf = spawn(
      'perf',
      [
        'record',
        '-q',
        '-e',
        'cpu-clock',
        '-F',
        String(FREQUENCY),
        '-g',
        '-k',
        'mono',
        '-p',
        String(childPid),
        '-o',
        join(dir, 'perf.data'),
      ],
      { stdio: 'inherit' },
    );
    await new Promise((r) => setTimeout(r, 1000)); // let perf attach
    child.stdin.write('go\n');
  } else if (line === '#bench-phase teardown') {
    perf?.kill('SIGINT');
    if (perf) await exited(perf);
    child.stdin.write('go\n');
  } else if (line.startsWith('#bench-result ')) {
    result = JSON.parse(line.slice('#bench-result '.length)) as ChildResult;
  }
}
await exited(child);
if (!result) throw new Error('profile: the child printed no result');

execFileSync(
  'perf',
  ['inject', '--jit', '-i', join(dir, 'perf.data'), '-o', join(dir, 'perf.jit.data')],
  {
    cwd: dir,
    stdio: 'ignore',
  },
);
const profile = await readProfile(join(dir, 'perf.jit.data'), childPid);
if (keep) console.error(`profile: kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });

const us = (ns: number) => ns / 1000 / messages;
const fmt = (ns: number) => us(ns).toFixed(2).padStart(7);
const sorted = <V>(map: Map<string, V>, ns: (v: V) => number) =>
  [...map].sort((a, b) => ns(b[1]) - ns(a[1]));

function print(p: Profile) {
  console.log(
    `${scenario} / ${variant}${noInline ? ' (inlining off)' : ''}: ${messages} messages after ${warmup} warm-up; measured ${result?.measured.cpuUs.toFixed(2)} CPU µs/msg (process), sampled ${us(p.totalNs).toFixed(2)} µs/msg`,
  );
  console.log('\nby owner of the innermost JS frame (µs/msg):');
  for (const [owner, ns] of sorted(p.byOwner, (n) => n)) console.log(`  ${fmt(ns)}  ${owner}`);
  console.log(`\ntop ${TOP} functions, self + the builtins/runtime/GC they call (µs/msg):`);
  for (const [key, v] of sorted(p.bySelf, (e) => e.ns).slice(0, TOP)) {
    console.log(`  ${fmt(v.ns)}  ${v.owner.padEnd(22)} ${key}`);
  }
  console.log(`\ntop ${TOP} Baton functions, inclusive (µs/msg):`);
  for (const [key, ns] of sorted(p.batonInclusive, (n) => n).slice(0, TOP)) {
    console.log(`  ${fmt(ns)}  ${key}`);
  }
}
print(profile);
