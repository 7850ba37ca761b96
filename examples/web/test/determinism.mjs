// determinism.mjs: runs a static riscv64 ELF on friscy.wasm in deterministic mode; prints its stdout, then the exit status and instruction count on stderr (compared with native friscy-run by scripts/determinism-check.sh).
// Usage: node test/determinism.mjs SEED PROGRAM [ARG]...   (SEED below 2^53; memory 64 MiB; slices of 100000 as friscy-run)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFriscy, Stop } from '../friscy-session.mjs';

const BUILD = fileURLToPath(new URL('../build', import.meta.url));
const require = createRequire(import.meta.url);
const createFriscy = require(join(BUILD, 'friscy.js'));
const [seedText, program, ...args] = process.argv.slice(2);
const friscy = await loadFriscy(createFriscy, readFileSync(join(BUILD, 'friscy.wasm')));
const chunks = [];
const m = friscy.newMachine(readFileSync(program), {
  argv: [program, ...args],
  env: [],
  memoryMiB: 64,
  deterministic: true,
  seed: Number(seedText),
  terminal: null,
  onOutput: (fd, bytes) => { if (fd === 1) chunks.push(Buffer.from(bytes)); },
});
let stop;
do stop = m.run(100000); while (stop.kind === Stop.BUDGET_SPENT);
process.stdout.write(Buffer.concat(chunks));
process.stderr.write(`exit ${stop.kind === Stop.EXITED ? stop.exitStatus : `stop ${stop.kind}`}\ninstructions ${m.instructions}\n`);
m.free();
