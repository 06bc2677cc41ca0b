import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// Reads `perf script` output (JIT symbols from node --perf-prof, after `perf inject --jit`)
// and charges each sample to the innermost JavaScript function on its stack: builtins,
// runtime calls, allocation and GC on the main thread, and kernel time all count against
// the JS code that caused them. Samples with no JS frame are GC / JIT / libuv threads
// (or the event loop itself).

/** A JS frame: name, file (shortened) and line, and who owns that code. */
export interface JsFrame {
  key: string;
  owner: string;
}

/** Who owns code at `path`: Baton's packages, OpenTelemetry, a bus client, Node, the harness. */
export function ownerOf(path: string): string {
  const baton = /\/packages\/([\w-]+)\//.exec(path);
  if (baton) return `baton/${baton[1]}`;
  const pkg = /node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\/(?!.*node_modules\/)/.exec(path);
  if (pkg) {
    const name = pkg[1] as string;
    if (name.startsWith('@opentelemetry/')) return `otel/${name.slice('@opentelemetry/'.length)}`;
    return name;
  }
  if (path.startsWith('node:')) return 'node';
  if (path.includes('/bench/dist/')) return 'bench harness';
  return 'other JS';
}

const shorten = (path: string) =>
  path
    .replace(/^.*node_modules\/(?!.*node_modules\/)/, '')
    .replace(/^.*\/packages\//, 'packages/')
    .replace(/^.*\/bench\/dist\//, 'bench/')
    .replace(/^file:\/\//, '');

/** Parses a perf JIT symbol `JS:<tier>'<name> <path>:<line>:<column>` (tier `~*^+`). */
export function parseJsSymbol(symbol: string): JsFrame | undefined {
  if (!symbol.startsWith('JS:')) return undefined;
  const body = symbol.slice(3).replace(/^[~*^+]?'?/, '');
  const space = body.lastIndexOf(' ');
  const name = (space < 0 ? '' : body.slice(0, space)) || '(anonymous)';
  const location = space < 0 ? body : body.slice(space + 1);
  const match = /^(.*):(\d+):\d+$/.exec(location);
  const path = match ? (match[1] as string) : location;
  const line = match ? match[2] : '?';
  return { key: `${name} ${shorten(path)}:${line}`, owner: ownerOf(path) };
}

/** Sampled CPU per owner and per function, in ns. */
export interface Profile {
  totalNs: number;
  /** Innermost-JS-frame owner (or what ran without a JS frame) -> ns. */
  byOwner: Map<string, number>;
  /** Innermost JS function (self, with the builtins/runtime/GC below it) -> ns. */
  bySelf: Map<string, { owner: string; ns: number }>;
  /** Baton functions anywhere on the stack (inclusive) -> ns. */
  batonInclusive: Map<string, number>;
}

const add = (map: Map<string, number>, key: string, ns: number) =>
  map.set(key, (map.get(key) ?? 0) + ns);

/** Runs `perf script` on `file` and folds its samples (main thread is `mainTid`). */
export async function readProfile(file: string, mainTid: number): Promise<Profile> {
  const profile: Profile = {
    totalNs: 0,
    byOwner: new Map(),
    bySelf: new Map(),
    batonInclusive: new Map(),
  };
  const perf = spawn('perf', ['script', '-i', file, '-F', 'comm,tid,period,ip,sym'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let tid = 0;
  let comm = '';
  let period = 0;
  let frames: string[] = [];
  const flush = () => {
    if (period === 0) return;
    profile.totalNs += period;
    const js = frames.map(parseJsSymbol);
    const self = js.find((f) => f !== undefined);
    if (self === undefined) {
      const where = tid === mainTid ? 'main thread' : `thread ${comm}`;
      add(profile.byOwner, `${where}, no JS frame (GC, runtime, event loop, kernel)`, period);
    } else {
      add(profile.byOwner, self.owner, period);
      const entry = profile.bySelf.get(self.key) ?? { owner: self.owner, ns: 0 };
      entry.ns += period;
      profile.bySelf.set(self.key, entry);
    }
    const seen = new Set<string>();
    for (const frame of js) {
      if (frame?.owner.startsWith('baton/') && !seen.has(frame.key)) {
        seen.add(frame.key);
        add(profile.batonInclusive, frame.key, period);
      }
    }
    period = 0;
    frames = [];
  };
  for await (const line of createInterface({ input: perf.stdout })) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    const header = /^\s*(\S.*?)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (header) {
      flush();
      comm = header[1] as string;
      tid = Number(header[2]);
      period = Number(header[3]);
      continue;
    }
    // A frame line: "<ip> <symbol>".
    const frame = /^\s*[0-9a-f]+\s+(.*)$/.exec(line);
    if (frame) frames.push(frame[1] as string);
  }
  flush();
  return profile;
}
