// bench-node.mjs: times one guest under node on friscy.wasm (CPU time of the run only, sliced so V8's optimising tier takes over); prints JSON. Used by bench.sh.
// usage: node bench-node.mjs GUEST [ARG]... [--budget N] [--warm] [--rootfs TAR]   (--warm: run the guest once untimed first, so the timed run uses already-optimised code; --rootfs: GUEST is a program in the root file-system tar, and the time includes booting it)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFriscy, Stop } from './friscy-session.mjs';

const BUILD = fileURLToPath(new URL('build', import.meta.url));
const argv = process.argv.slice(2);
let budget = 1_000_000;
const i = argv.indexOf('--budget');
if (i >= 0) {
  budget = Number(argv[i + 1]);
  argv.splice(i, 2);
}
let rootfs = null;
const r = argv.indexOf('--rootfs');
if (r >= 0) {
  rootfs = readFileSync(argv[r + 1]);
  argv.splice(r, 2);
}
const w = argv.indexOf('--warm');
const warm = w >= 0;
if (warm) argv.splice(w, 1);
if (argv.length === 0) {
  console.error('usage: node bench-node.mjs GUEST [ARG]... [--budget N] [--warm]');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const friscy = await loadFriscy(require(join(BUILD, 'friscy.js')), readFileSync(join(BUILD, 'friscy.wasm')));
let output = '';
const elf = rootfs ? null : readFileSync(argv[0]);
const newMachine = () => {
  const options = {
    argv: [basename(argv[0]), ...argv.slice(1)],
    deterministic: true,
    memoryMiB: rootfs ? 256 : 64,
    onOutput: (fd, bytes) => { output += new TextDecoder().decode(bytes); },
  };
  const machine = rootfs ? friscy.newMachineFromRootfs(rootfs, options) : friscy.newMachine(elf, options);
  machine.closeStdin();
  return machine;
};
if (warm) {
  const first = newMachine();
  while (first.run(budget).kind === Stop.BUDGET_SPENT);
  first.free();
  output = '';
}
// With a rootfs, booting it (copying and reading the tar) is timed too, as the native CLI's is.
let m = rootfs ? null : newMachine();

// A plain loop of run calls (no event-loop turns): each call returns after `budget`
// instructions, so later calls enter the TurboFan-compiled code (no OSR for wasm in V8).
const cpu0 = process.cpuUsage();
const t0 = performance.now();
m ??= newMachine();
let stop;
do stop = m.run(budget); while (stop.kind === Stop.BUDGET_SPENT);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const result = {
  guest: basename(argv[0]),
  args: argv.slice(1),
  budget,
  warm,
  stop: stop.name,
  exitStatus: stop.exitStatus,
  instructions: m.instructions,
  cpuMs: (cpu.user + cpu.system) / 1000,
  wallMs,
  output,
};
m.free();
console.log(JSON.stringify(result));
process.exit(stop.kind === Stop.EXITED && stop.exitStatus === 0 ? 0 : 1);
