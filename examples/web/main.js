// main.js: the web terminal page: fetches libfriscy's wasm and a root file system (or a static ELF) with progress, runs the guest under xterm.js in budgeted slices through a line discipline.
import { Terminal } from './node_modules/@xterm/xterm/lib/xterm.mjs';
import { FitAddon } from './node_modules/@xterm/addon-fit/lib/addon-fit.mjs';
import { loadFriscy, LineDiscipline, onlcr, DEFAULT_ENV } from './friscy-session.mjs';

/** Defaults; each can be overridden by a query parameter of the same name. */
const CONFIG = {
  wasm: 'build/friscy.wasm',
  image: 'build/rootfs.tar', // a root file-system tar to boot (the default)
  cmd: 'sh',             // what to run from it (searched on PATH), with its arguments from &arg= (default -i)
  elf: null,             // instead: a static riscv64 ELF to run (?elf=build/calc: the calculator)
  memoryMiB: null,       // guest address space (allocated up front: it costs page memory and load
                         // time); default 256 for a root file system, 32 for a static ELF
  budget: 250_000,       // instructions per friscy_machine_run call
  sliceMs: 12,           // longest stretch of guest work before the page gets a turn
};

const params = new URLSearchParams(location.search);
const config = { ...CONFIG };
for (const key of Object.keys(CONFIG)) {
  if (params.has(key)) config[key] = key === 'memoryMiB' || typeof CONFIG[key] === 'number' ? Number(params.get(key)) : params.get(key);
}
if (config.elf) config.image = null;
config.memoryMiB ??= config.image ? 256 : 32;
const programName = (config.image ? config.cmd : config.elf).split('/').pop();
const args = params.has('arg') ? params.getAll('arg') : config.image && config.cmd === 'sh' ? ['-i'] : [];
/** A shell's environment: busybox ash edits lines itself when TERM is set and stdin is a terminal. */
const env = [...DEFAULT_ENV, 'PS1=$ '];

const $ = (id) => document.getElementById(id);

/** State for tests and the curious: window.friscyDemo. */
const demo = {
  state: 'loading', // loading | running | waiting-input | exited | error
  promptAtMs: null,  // performance.now() when the guest first waited for input
  marks: { scriptStart: performance.now() }, // performance.now() at each loading step
  exitStatus: null,
  wasmHeapBytes: null, // the wasm memory's size once the machine exists (guest memory is in it)
  get rows() { return term.rows; },
  get cols() { return term.cols; },
  screenText: () => {
    const buf = term.buffer.active;
    const lines = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i).translateToString(true));
    return lines.join('\n').replace(/\n+$/, '');
  },
};
window.friscyDemo = demo;

function setStatus(text, state) {
  $('status').textContent = text;
  if (state) demo.state = state;
}

const term = new Terminal({
  convertEol: false, // output goes through onlcr() (the line discipline's OPOST|ONLCR)
  cursorBlink: true,
  fontFamily: 'DejaVu Sans Mono, Liberation Mono, monospace',
  fontSize: 15,
  theme: { background: '#101418' },
  scrollback: 5000,
});
const fit = new FitAddon();
term.loadAddon(fit);
term.open($('terminal'));
fit.fit();
window.addEventListener('resize', () => fit.fit());

/** Fetch [url, label] pairs concurrently into Uint8Arrays; one progress bar shows the total. */
async function fetchWithProgress(items) {
  const bar = $('progress');
  $('loading').classList.remove('done');
  bar.removeAttribute('value'); // indeterminate until every size is known
  const state = items.map(() => ({ received: 0, total: 0 }));
  const kib = (n) => (n / 1024).toFixed(0);
  const update = () => {
    const received = state.reduce((n, s) => n + s.received, 0);
    const total = state.reduce((n, s) => n + s.total, 0);
    if (state.every((s) => s.total)) bar.value = received / total;
    $('progress-label').textContent = items.map(([url, label], i) =>
      `${label} ${url} ${kib(state[i].received)}${state[i].total ? `/${kib(state[i].total)}` : ''} KiB`).join(', ');
  };
  update();
  const results = await Promise.all(items.map(async ([url], i) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
    state[i].total = Number(response.headers.get('content-length')) || 0;
    const reader = response.body.getReader();
    const chunks = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      state[i].received += value.length;
      update();
    }
    const bytes = new Uint8Array(state[i].received);
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.length;
    }
    return bytes;
  }));
  $('loading').classList.add('done');
  return results;
}

function fail(message) {
  $('loading').classList.add('done');
  setStatus('error', 'error');
  term.write(`\x1b[1;31m${message.replace(/\n/g, '\r\n')}\x1b[0m\r\n`);
}

let machine = null;
let discipline = null;

/** Create the machine (from the ELF, or from the rootfs tar) and run it until it ends. */
async function runProgram(friscy, bytes) {
  const options = {
    argv: [programName, ...args],
    env,
    memoryMiB: config.memoryMiB,
    terminal: { rows: term.rows, cols: term.cols },
    onOutput: (fd, data) => term.write(onlcr(data)),
  };
  machine = config.image
    ? friscy.newMachineFromRootfs(bytes, { ...options, argv: [config.cmd, ...args] })
    : friscy.newMachine(bytes, options);
  discipline = new LineDiscipline(machine, (data) => term.write(data));
  demo.marks.machineCreated ??= performance.now();
  demo.wasmHeapBytes = friscy.module.HEAPU8.length;
  setStatus(`running ${programName}`, 'running');
  const stop = await machine.start({
    budget: config.budget,
    sliceMs: config.sliceMs,
    onPending: () => {
      if (demo.promptAtMs === null) demo.promptAtMs = performance.now();
      setStatus(`${programName}: waiting for input (${machine.instructions.toLocaleString('en')} instructions run)`, 'waiting-input');
      // Back to "running" as soon as a key arrives (see term.onData).
    },
  });
  const instructions = machine.instructions;
  machine.free();
  machine = null;
  discipline = null;
  let how;
  if (stop.name === 'EXITED') how = `exited with status ${stop.exitStatus}`;
  else if (stop.name === 'SIGNALED') how = `killed by signal ${stop.signal}`;
  else if (stop.name === 'FAULT') how = `memory fault at 0x${stop.faultAddress.toString(16)} (pc 0x${stop.pc.toString(16)})`;
  else if (stop.name === 'ILLEGAL_INSTRUCTION') how = `illegal instruction 0x${stop.instructionBits.toString(16)} at pc 0x${stop.pc.toString(16)}`;
  else how = stop.name.toLowerCase();
  demo.exitStatus = stop.exitStatus ?? null;
  setStatus(`${programName} ${how}`, 'exited');
  term.write(`\r\n\x1b[2m[${programName} ${how} after ${instructions} instructions; press Enter to run it again]\x1b[0m\r\n`);
}

async function main() {
  try {
    setStatus('loading libfriscy', 'loading');
    demo.marks.terminalReady = performance.now();
    // The library and the program (a root file system or an ELF) load together.
    const [wasm, bytes] = await fetchWithProgress([
      [config.wasm, 'libfriscy'],
      config.image ? [config.image, 'root file system'] : [config.elf, 'program'],
    ]);
    demo.marks.fetched = performance.now();
    const friscy = await loadFriscy(window.createFriscy, wasm);
    demo.marks.wasmReady = performance.now();
    $('info').textContent = `libfriscy ${friscy.version} (${(wasm.length / 1024).toFixed(0)} KiB wasm)` +
      (config.image ? `, ${config.image} ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${config.memoryMiB} MiB guest memory` : '');

    term.onData((data) => {
      if (machine) {
        discipline.input(data);
        if (demo.state === 'waiting-input') setStatus(`running ${programName}`, 'running');
      } else if (data === '\r') {
        term.write('\r\n');
        runProgram(friscy, bytes).catch((e) => fail(String(e.stack ?? e)));
      }
    });
    term.onBinary((data) => {
      if (machine) machine.pushStdin(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
    });
    term.onResize(({ rows, cols }) => machine?.setTerminal(true, rows, cols));
    term.focus();
    await runProgram(friscy, bytes);
  } catch (e) {
    fail(String(e.stack ?? e));
  }
}

main();
