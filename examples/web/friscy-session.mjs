// friscy-session.mjs: JavaScript over build/friscy.{js,wasm} (page and node alike): machines, stdin/stdout, and a budgeted run loop that never blocks the event loop.

/** friscy_stop_kind values (include/friscy.h). */
export const Stop = Object.freeze({
  EXITED: 0,
  SIGNALED: 1,
  BUDGET_SPENT: 2,
  PENDING_IO: 3,
  HOST_STOP: 4,
  FAULT: 5,
  ILLEGAL_INSTRUCTION: 6,
  BREAKPOINT: 7,
});

const STOP_NAMES = Object.fromEntries(Object.entries(Stop).map(([k, v]) => [v, k]));

/** `FRISCY_CONFIG_DETERMINISTIC`. */
const CONFIG_DETERMINISTIC = 1;

/** The environment a program gets unless options.env says otherwise. */
export const DEFAULT_ENV = Object.freeze([
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'TERM=xterm',
]);

/** `FRISCY_CONSOLE_*`: termios local flags (friscy_machine_console_mode). */
export const Console = Object.freeze({ ISIG: 1, ICANON: 2, ECHO: 8 });

const SIGINT = 2;

const now = () => (globalThis.performance ? performance.now() : Date.now());

/** Give the event loop a turn (no 4 ms clamping as with nested setTimeout). */
function yieldToEventLoop() {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

/**
 * Instantiate the Emscripten module. `createFriscy` is the factory friscy.js defines
 * (MODULARIZE); `wasmBinary` the bytes of friscy.wasm, fetched by the caller (so the page
 * can show progress and node needs no fetch).
 */
export async function loadFriscy(createFriscy, wasmBinary) {
  const machines = new Map();
  const module = await createFriscy({
    wasmBinary,
    onGuestOutput: (session, fd, bytes) => machines.get(session)?._output(fd, bytes),
    print: (s) => console.log(s),
    printErr: (s) => console.error(s),
  });
  return new Friscy(module, machines);
}

export class Friscy {
  constructor(module, machines) {
    this.module = module;
    this._machines = machines;
    this.version = module.UTF8ToString(module._fw_version());
  }

  /** Copy a block of NUL-terminated strings into wasm memory; returns [pointer, count]. */
  _strings(list) {
    const m = this.module;
    const parts = list.map((s) => new TextEncoder().encode(String(s)));
    const total = parts.reduce((n, p) => n + p.length + 1, 0);
    const ptr = m._malloc(Math.max(total, 1));
    let off = ptr;
    for (const p of parts) {
      m.HEAPU8.set(p, off);
      m.HEAPU8[off + p.length] = 0;
      off += p.length + 1;
    }
    return [ptr, list.length];
  }

  /**
   * Create a machine from a static riscv64 ELF.
   * options: argv (array, argv[0] included), env (array of KEY=VALUE), memoryMiB,
   * deterministic, seed (number), terminal ({rows, cols} or null for a pipe),
   * onOutput(fd, Uint8Array).
   */
  newMachine(elf, options = {}) {
    return this._create('_fw_new_from_elf', elf, options);
  }

  /**
   * Create a machine that boots a root file-system tar (Uint8Array, copied) and runs
   * options.argv[0] from it (default /bin/sh; without a '/', searched on the env's PATH).
   */
  newMachineFromRootfs(tar, options = {}) {
    return this._create('_fw_new_from_rootfs', tar, { argv: ['/bin/sh'], ...options });
  }

  _create(constructor, bytes, options) {
    const m = this.module;
    const argv = options.argv ?? ['program'];
    const env = options.env ?? DEFAULT_ENV;
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21);
    const ptr = m._malloc(Math.max(bytes.length, 1));
    if (!ptr) throw new Error(`out of memory copying ${bytes.length} bytes into the wasm heap`);
    m.HEAPU8.set(bytes, ptr);
    const [argvPtr, argc] = this._strings(argv);
    const [envPtr, envc] = this._strings(env);
    const session = m[constructor](
      ptr, bytes.length, argvPtr, argc, envPtr, envc,
      options.memoryMiB ?? 64,
      options.deterministic ? CONFIG_DETERMINISTIC : 0,
      seed % 2 ** 32, Math.floor(seed / 2 ** 32),
    );
    m._free(ptr);
    m._free(argvPtr);
    m._free(envPtr);
    if (!session) throw new Error(m.UTF8ToString(m._fw_error()));
    const machine = new Machine(this, session, options.onOutput);
    this._machines.set(session, machine);
    if (options.terminal) machine.setTerminal(true, options.terminal.rows, options.terminal.cols);
    return machine;
  }
}

export class Machine {
  constructor(friscy, session, onOutput) {
    this._friscy = friscy;
    this._m = friscy.module;
    this.session = session;
    this.onOutput = onOutput ?? (() => {});
    this._inputWaiter = null;
    this._running = false;
    this._killed = false;
  }

  _output(fd, bytes) {
    this.onOutput(fd, bytes);
  }

  /** Run one slice of at most `budget` instructions; returns the stop as an object. */
  run(budget) {
    const m = this._m;
    const kind = m._fw_run(this.session, budget);
    if (kind < 0) throw new Error(m.UTF8ToString(m._fw_error()));
    const stop = { kind, name: STOP_NAMES[kind] };
    switch (kind) {
      case Stop.EXITED: stop.exitStatus = m._fw_stop_exit_status(this.session); break;
      case Stop.SIGNALED: stop.signal = m._fw_stop_signal(this.session); break;
      case Stop.PENDING_IO: stop.fd = m._fw_stop_fd(this.session); break;
      case Stop.FAULT:
        stop.signal = m._fw_stop_signal(this.session);
        stop.faultAddress = m._fw_stop_fault_address(this.session);
        break;
      case Stop.ILLEGAL_INSTRUCTION:
      case Stop.BREAKPOINT:
        stop.signal = m._fw_stop_signal(this.session);
        stop.instructionBits = m._fw_stop_instruction_bits(this.session);
        break;
      default: break;
    }
    stop.pc = m._fw_stop_pc(this.session);
    return stop;
  }

  /** Instructions the guest has retired. */
  get instructions() {
    return this._m._fw_instructions(this.session);
  }

  /** Queue bytes (Uint8Array or string) for the guest's stdin and wake a waiting run loop. */
  pushStdin(data) {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (bytes.length) {
      const m = this._m;
      const ptr = m._malloc(bytes.length);
      m.HEAPU8.set(bytes, ptr);
      const r = m._fw_push_stdin(this.session, ptr, bytes.length);
      m._free(ptr);
      if (r !== 0) throw new Error('out of memory queueing stdin');
    }
    this._wake();
  }

  /** One end of file (Ctrl-D at a line start): after the queued bytes, one read returns 0. */
  pushEof() {
    this._m._fw_push_eof(this.session);
    this._wake();
  }

  /** The termios local flags the guest set (Console.* bits); call between runs. */
  consoleMode() {
    const mode = this._m._fw_console_mode(this.session);
    if (mode < 0) throw new Error(this._m.UTF8ToString(this._m._fw_error()));
    return mode;
  }

  /**
   * Send a signal to guest process `pid` (0: the console's foreground process group, as
   * Ctrl-C does). Returns whether some process got it. Wakes the run loop: the signalled
   * process may have been waiting for input.
   */
  signal(pid, signal) {
    const r = this._m._fw_signal(this.session, pid, signal);
    this._wake();
    return r === 0;
  }

  /** End of input: guest reads return 0 once the queue is empty. */
  closeStdin() {
    this._m._fw_close_stdin(this.session);
    this._wake();
  }

  /** Console fds 0..2 are a terminal of rows x cols (false: a pipe). */
  setTerminal(isTerminal, rows = 24, cols = 80) {
    this._m._fw_set_terminal(this.session, isTerminal ? 1 : 0, rows, cols);
  }

  _wake() {
    const w = this._inputWaiter;
    this._inputWaiter = null;
    if (w) w();
  }

  /**
   * Run until the guest ends, in slices of `budget` instructions, giving the event loop a
   * turn at least every `sliceMs` milliseconds. Input waits do not spin: a pending stdin
   * read parks the loop until pushStdin/closeStdin. Resolves with the final stop
   * (EXITED, SIGNALED, FAULT, ILLEGAL_INSTRUCTION, BREAKPOINT, or KILLED after kill()).
   * onPending(stop) is called each time the loop parks on an empty stdin (the guest waits
   * for input: a prompt is showing).
   */
  async start({ budget = 1_000_000, sliceMs = 10, onPending } = {}) {
    if (this._running) throw new Error('machine already running');
    this._running = true;
    try {
      for (;;) {
        const deadline = now() + sliceMs;
        let stop;
        do {
          if (this._killed) return { name: 'KILLED' };
          stop = this.run(budget);
        } while (stop.kind === Stop.BUDGET_SPENT && now() < deadline);
        if (stop.kind === Stop.BUDGET_SPENT || stop.kind === Stop.HOST_STOP) {
          await yieldToEventLoop();
        } else if (stop.kind === Stop.PENDING_IO) {
          if (stop.fd === 0 && this._m._fw_stdin_queued(this.session) === 0) {
            const waiting = new Promise((resolve) => { this._inputWaiter = resolve; });
            if (onPending) onPending(stop);
            await waiting;
          } else {
            await yieldToEventLoop();
          }
        } else {
          return stop;
        }
      }
    } finally {
      this._running = false;
      if (this._killed) this.free();
    }
  }

  /** Stop the run loop (at its next slice) and free the machine once it has stopped. */
  kill() {
    this._killed = true;
    this._wake();
    if (!this._running) this.free();
  }

  /** Free the machine; the object is unusable afterwards. */
  free() {
    if (!this.session) return;
    this._friscy._machines.delete(this.session);
    this._m._fw_free(this.session);
    this.session = 0;
  }
}

/** OPOST|ONLCR, as a tty does to program output: every "\n" becomes "\r\n". */
export function onlcr(bytes) {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) n++;
  if (n === 0) return bytes;
  const out = new Uint8Array(bytes.length + n);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) out[o++] = 13;
    out[o++] = bytes[i];
  }
  return out;
}

/**
 * The terminal's line discipline, in the host (the guest's kernel has none for a console
 * the host draws): what to do with the user's keystrokes, decided on every key by the
 * termios local flags the guest last set (Machine.consoleMode):
 * - ICANON: keys collect in a line here; Backspace/Ctrl-H erase a character, Ctrl-U the
 *   line, Ctrl-W a word; Enter hands the line plus "\n" to the guest; Ctrl-D hands over
 *   what is typed, or at the start of a line is end of file (the read returns 0).
 *   Escape sequences (arrow keys) are dropped.
 * - ECHO: typed characters are shown (control characters as ^X, Enter as a new line).
 * - ISIG: Ctrl-C sends SIGINT to the foreground process group and drops the pending line.
 * - not ICANON (raw): bytes go to the guest as typed. A guest with its own line editor
 *   (busybox sh, calc) works like this; Ctrl-C then also reaches it as a byte (such
 *   programs disable VINTR and handle it, and the host cannot see c_cc).
 * `write(Uint8Array)` draws on the terminal (echo); guest output should go through onlcr().
 */
export class LineDiscipline {
  constructor(machine, write) {
    this.machine = machine;
    this.write = write;
    this.line = ''; // canonical mode: the line being typed
  }

  _echo(text) {
    this.write(onlcr(new TextEncoder().encode(text)));
  }

  /** Keystrokes from the terminal (xterm.js onData: a string, one key or a paste). */
  input(data) {
    const mode = this.machine.consoleMode();
    const echo = (mode & Console.ECHO) !== 0;
    const isig = (mode & Console.ISIG) !== 0;
    if (!(mode & Console.ICANON)) {
      if (isig && data.includes('\x03')) this.machine.signal(0, SIGINT);
      if (echo) this._echo(data);
      this.machine.pushStdin(data);
      return;
    }
    if (data.length > 1 && data[0] === '\x1b') return; // an escape sequence: no editing keys here
    for (const c of data) {
      if (c === '\x03' && isig) {
        if (echo) this._echo('^C');
        this.line = '';
        this.machine.signal(0, SIGINT);
      } else if (c === '\r' || c === '\n') { // ICRNL: Enter sends CR
        if (echo) this._echo('\n');
        this.machine.pushStdin(`${this.line}\n`);
        this.line = '';
      } else if (c === '\x7f' || c === '\b') {
        if (this.line) this._erase(1);
      } else if (c === '\x15') {
        this._erase(Array.from(this.line).length);
      } else if (c === '\x17') {
        const m = /\S*\s*$/u.exec(this.line);
        this._erase(Array.from(m[0]).length);
      } else if (c === '\x04') {
        if (this.line) this.machine.pushStdin(this.line);
        else this.machine.pushEof();
        this.line = '';
      } else {
        this.line += c;
        if (echo) this._echo(c < ' ' ? `^${String.fromCharCode(c.charCodeAt(0) + 64)}` : c);
      }
    }
  }

  /** Canonical mode: drop the last `n` characters of the pending line (and from the screen). */
  _erase(n) {
    const chars = Array.from(this.line);
    n = Math.min(n, chars.length);
    if (n === 0) return;
    this.line = chars.slice(0, chars.length - n).join('');
    if (this.machine.consoleMode() & Console.ECHO) this._echo('\b \b'.repeat(n));
  }
}
