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
    /** Whether this build can boot a root file-system tar (not yet: no C API for it). */
    this.hasRootfs = module._fw_has_rootfs() !== 0;
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
   * Create a machine that boots a root file-system tar and runs options.argv[0] from it
   * (default /bin/sh). Throws until the library can do it (see hasRootfs).
   */
  newMachineFromRootfs(tar, options = {}) {
    return this._create('_fw_new_from_rootfs', tar, { argv: ['/bin/sh'], ...options });
  }

  _create(constructor, bytes, options) {
    const m = this.module;
    const argv = options.argv ?? ['program'];
    const env = options.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'TERM=xterm-256color'];
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
