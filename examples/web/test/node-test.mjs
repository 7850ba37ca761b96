// node-test.mjs: runs the demo guests on the same friscy.wasm under node and checks output, exit status, pending stdin and event-loop slicing.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFriscy, Stop } from '../friscy-session.mjs';

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
  check(ticks >= Math.floor(ms / 40), `timers kept firing during the run (${ticks} ticks in ${ms.toFixed(0)} ms)`);
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

// 9. Root file systems: not in the C API yet; the placeholder says so instead of failing obscurely.
{
  let message = '';
  try {
    friscy.newMachineFromRootfs(new Uint8Array(1024));
  } catch (e) {
    message = e.message;
  }
  check(!friscy.hasRootfs && /cannot boot a root file system/.test(message), 'rootfs boot is reported as not supported yet', message);
}

console.log(failures ? `${failures} node check(s) failed` : 'all node checks passed');
process.exit(failures ? 1 : 0);
