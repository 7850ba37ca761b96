// node-test.mjs: runs the demo guests and a Debian rootfs (busybox sh, bc, an interactive shell through the line discipline) on friscy.wasm under node.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFriscy, Stop, LineDiscipline, Console, DEFAULT_ENV, onlcr } from '../friscy-session.mjs';

const BUILD = fileURLToPath(new URL('../build', import.meta.url));
const require = createRequire(import.meta.url);
const createFriscy = require(join(BUILD, 'friscy.js'));
const guest = (name) => readFileSync(join(BUILD, name));

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n    ${String(detail).replace(/\n/g, '\n    ')}` : ''}`);
  if (!ok) failures++;
}

const friscy = await loadFriscy(createFriscy, readFileSync(join(BUILD, 'friscy.wasm')));
check(/^\d+\.\d+\.\d+$/.test(friscy.version), `library version ${friscy.version}`);

/** A machine whose stdout/stderr are collected as text. */
function machine(name, options = {}) {
  const out = { 1: '', 2: '' };
  const decoder = new TextDecoder();
  const m = friscy.newMachine(guest(name), {
    argv: [name],
    deterministic: true,
    ...options,
    onOutput: (fd, bytes) => { out[fd] += decoder.decode(bytes, { stream: true }); },
  });
  return { m, out };
}

// 1. Static hello world.
{
  const { m, out } = machine('hello', { argv: ['hello', 'wasm', 'two words'] });
  const stop = await m.start();
  check(stop.kind === Stop.EXITED && stop.exitStatus === 0, 'hello exits with status 0', JSON.stringify(stop));
  check(out[1] === 'Hello from RISC-V in WebAssembly!\narg 1: wasm\narg 2: two words\n', 'hello prints its greeting and arguments', out[1]);
  m.free();
}

// 2. Instruction counts are exact: the same run in different slice sizes retires the same count.
{
  const counts = [];
  for (const budget of [1_000_000, 777, 1]) {
    const { m } = machine('hello');
    let stop;
    do stop = m.run(budget); while (stop.kind === Stop.BUDGET_SPENT);
    counts.push(m.instructions);
    m.free();
  }
  check(counts[0] > 1000 && counts.every((c) => c === counts[0]), `hello retires the same instruction count in any slicing (${counts.join(', ')})`);
}

// 3. The calculator fed "6*7\n" on a pipe: no prompt, no echo, just the answer.
{
  const { m, out } = machine('calc');
  m.pushStdin('6*7\nx = 2*(3+4)\nx*x - 1\n1/0\n');
  m.closeStdin();
  const stop = await m.start();
  check(stop.kind === Stop.EXITED && stop.exitStatus === 0, 'calc exits 0 at end of input', JSON.stringify(stop));
  check(out[1] === '42\n14\n195\nerror: division by zero\n', 'calc evaluates 6*7 -> 42 (and variables, errors)', out[1]);
}

// 4. The calculator on a terminal: banner, prompt, its own echo, the terminal size.
{
  const { m, out } = machine('calc', { terminal: { rows: 33, cols: 101 } });
  m.pushStdin('6*7\rsize\r');
  m.closeStdin();
  const stop = await m.start();
  check(stop.kind === Stop.EXITED, 'calc on a terminal exits at end of input', JSON.stringify(stop));
  check(out[1].includes("Type 'help'.\n$ 6*7\n42\n$ size\n33 rows x 101 columns\n$ "), 'calc on a terminal shows prompt, echo, 42 and the size', JSON.stringify(out[1]));
}

// 5. Pending input: stdin arrives in two chunks across run calls; the read is resumed, not lost.
{
  const { m, out } = machine('calc');
  let stop = m.run(10_000_000);
  check(stop.kind === Stop.PENDING_IO && stop.fd === 0, 'calc with no input stops with PENDING_IO on fd 0', JSON.stringify(stop));
  const before = m.instructions;
  stop = m.run(10_000_000);
  check(stop.kind === Stop.PENDING_IO && m.instructions === before, 'running again without input pends again and retires nothing');
  m.pushStdin('6*');
  stop = m.run(10_000_000);
  check(stop.kind === Stop.PENDING_IO && out[1] === '', 'half a line: calc reads it and waits for more, no output yet', JSON.stringify(out[1]));
  m.pushStdin('7\n');
  stop = m.run(10_000_000);
  check(stop.kind === Stop.PENDING_IO && out[1] === '42\n', 'the second chunk completes the line: 42', JSON.stringify(out[1]));
  m.closeStdin();
  stop = m.run(10_000_000);
  check(stop.kind === Stop.EXITED && stop.exitStatus === 0, 'closing stdin ends calc with status 0', JSON.stringify(stop));
  m.free();
}

// 6. The same through the asynchronous run loop: it parks on input and wakes on pushStdin.
{
  const { m, out } = machine('calc');
  let pendings = 0;
  const done = m.start({
    onPending: () => {
      pendings++;
      if (pendings === 1) setTimeout(() => m.pushStdin('6*'), 5);
      else if (pendings === 2) setTimeout(() => m.pushStdin('7\n'), 5);
      else setTimeout(() => m.closeStdin(), 5);
    },
  });
  const stop = await done;
  check(stop.kind === Stop.EXITED && out[1] === '42\n' && pendings === 3, `run loop parks on input and resumes on push (${pendings} waits)`, JSON.stringify(out[1]));
  m.free();
}

// 7. A CPU-bound guest, in slices: correct answer, and the event loop keeps running meanwhile.
{
  const { m, out } = machine('cpu');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  const stop = await m.start({ budget: 1_000_000, sliceMs: 10 });
  const ms = performance.now() - t0;
  clearInterval(timer);
  check(stop.kind === Stop.EXITED && stop.exitStatus === 0, 'cpu exits 0', JSON.stringify(stop));
  check(out[1] === 'primes below 2000000: 148933\n9-queens solutions: 352\nhash: 6579f745711a8d09\nscale 1 done\n', 'cpu computes the known answers', out[1]);
  check(ticks >= Math.floor(ms / 100), `timers kept firing during the run (${ticks} ticks in ${ms.toFixed(0)} ms)`);
  console.log(`     cpu: ${m.instructions} instructions in ${ms.toFixed(0)} ms (${(m.instructions / ms / 1000).toFixed(0)} MIPS)`);
  m.free();
}

// 8. Errors are reported with the library's message.
{
  let message = '';
  try {
    friscy.newMachine(new TextEncoder().encode('#!/bin/sh\necho not an ELF\n'));
  } catch (e) {
    message = e.message;
  }
  check(/not an ELF/i.test(message), 'a non-ELF program is refused with a clear message', message);
}

// 9. A bad root file system is refused with the library's message.
{
  let message = '';
  try {
    friscy.newMachineFromRootfs(new Uint8Array(1024), { argv: ['sh'] });
  } catch (e) {
    message = e.message;
  }
  check(/cannot boot the root file system/.test(message), 'a non-tar root file system is refused with a message', message);
}

// 10.-12. The Debian rootfs (build/rootfs.tar): busybox sh, pipes, coreutils, bc, and an
// interactive shell through the line discipline.
const ROOTFS_TAR = process.env.ROOTFS_TAR ?? join(BUILD, 'rootfs.tar');
const tar = readFileSync(ROOTFS_TAR);
const SHELL_ENV = [...DEFAULT_ENV, 'PS1=$ '];

/** Run argv from the rootfs with stdin on a pipe (closed); resolves with { stop, out, err, ms }. */
async function rootfsRun(argv) {
  const out = { 1: '', 2: '' };
  const decoder = new TextDecoder();
  const t0 = performance.now();
  const m = friscy.newMachineFromRootfs(tar, {
    argv, env: SHELL_ENV, memoryMiB: 256,
    onOutput: (fd, bytes) => { out[fd] += decoder.decode(bytes, { stream: true }); },
  });
  m.closeStdin();
  const stop = await m.start();
  m.free();
  return { stop, out: out[1], err: out[2], ms: performance.now() - t0 };
}

{
  const r = await rootfsRun(['busybox', 'sh', '-c', 'echo hi | wc -c']);
  check(r.stop.name === 'EXITED' && r.stop.exitStatus === 0 && r.out === '3\n',
    `rootfs: busybox sh -c 'echo hi | wc -c' prints 3 (${r.ms.toFixed(0)} ms)`, JSON.stringify(r));
}
{
  const PI100 = '3.1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679';
  const r = await rootfsRun(['sh', '-c', 'echo "scale=100; 4*a(1)" | bc -lq']);
  const digits = r.out.replace(/\\\n/g, '').trim();
  // bc computes a(1) to the scale and multiplies by 4, so the last digit or two carry rounding error.
  check(r.stop.name === 'EXITED' && digits.length === 102 && digits.slice(0, 100) === PI100.slice(0, 100),
    `rootfs: bc -l gives pi to 100 digits (${r.ms.toFixed(0)} ms): ${digits.slice(0, 12)}…${digits.slice(-6)}`, JSON.stringify(r));
}
{
  // An interactive shell on a terminal, driven key by key through LineDiscipline.
  let screen = '';
  const decoder = new TextDecoder();
  const show = (bytes) => { screen += decoder.decode(bytes, { stream: true }); };
  const m = friscy.newMachineFromRootfs(tar, {
    argv: ['sh', '-i'], env: SHELL_ENV, memoryMiB: 256, terminal: { rows: 30, cols: 100 },
    onOutput: (fd, bytes) => show(onlcr(bytes)),
  });
  const ld = new LineDiscipline(m, show);
  let waiter = null;
  const done = m.start({ onPending: () => { const w = waiter; waiter = null; if (w) w(); } });
  /** Resolves when the guest next waits for input with `pattern` on the screen (5 s at most). */
  const waitFor = async (pattern) => {
    const t0 = Date.now();
    while (!pattern.test(screen) && Date.now() - t0 < 5000) await new Promise((r) => { waiter = r; setTimeout(r, 200); });
    return pattern.test(screen);
  };
  check(await waitFor(/\$ $/), 'rootfs: sh -i shows its prompt', JSON.stringify(screen));
  const mode = m.consoleMode();
  check(!(mode & Console.ICANON) && !(mode & Console.ECHO), `rootfs: the shell edits lines itself (raw mode, lflag 0x${mode.toString(16)})`);
  ld.input('echo $((6*7))');
  ld.input('\r');
  check(await waitFor(/echo \$\(\(6\*7\)\)\r\n42\r\n\$ $/), 'rootfs: echo $((6*7)) -> 42, shown with CRLF line ends', JSON.stringify(screen));
  ld.input('stty size; cat\r');
  check(await waitFor(/\r\n30 100\r\n$/), 'rootfs: the guest sees the terminal size (stty size: 30 100)', JSON.stringify(screen.slice(-80)));
  const catMode = m.consoleMode();
  check((catMode & Console.ICANON) && (catMode & Console.ECHO), `rootfs: cat runs in canonical mode with echo (lflag 0x${catMode.toString(16)})`);
  ld.input('abx');
  ld.input('\x7f');
  ld.input('c\r');
  check(await waitFor(/\r\nabx\x08 \x08c\r\nabc\r\n$/), 'rootfs: canonical mode echoes, Backspace erases, Enter delivers the line', JSON.stringify(screen.slice(-80)));
  ld.input('\x04');
  check(await waitFor(/abc\r\n\$ $/), 'rootfs: Ctrl-D at a line start is end of file (cat ends, the prompt returns)', JSON.stringify(screen.slice(-80)));
  ld.input('cat\r');
  await waitFor(/cat\r\n$/);
  ld.input('zz');
  ld.input('\x03');
  check(await waitFor(/\^C[^]*\$ $/), 'rootfs: Ctrl-C interrupts cat (SIGINT to the foreground group); the shell prompts again', JSON.stringify(screen.slice(-80)));
  ld.input('exit 3\r');
  const stop = await done;
  check(stop.name === 'EXITED' && stop.exitStatus === 3, 'rootfs: exit 3 ends the shell with status 3', JSON.stringify(stop));
  m.free();
}

console.log(failures ? `${failures} node check(s) failed` : 'all node checks passed');
process.exit(failures ? 1 : 0);
