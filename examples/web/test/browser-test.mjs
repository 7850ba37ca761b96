// browser-test.mjs: loads the web terminal in headless Debian chromium (playwright-core): boots the rootfs, types ls / and echo $((6*7)) at busybox sh, then the calculator demo; saves a screenshot.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';

const WEB = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const BUILD = join(WEB, 'build');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT = 60_000;

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n${detail}` : ''}`);
  if (!ok) failures++;
}

const server = await startServer(WEB, 0);
const base = `http://127.0.0.1:${server.address().port}`;
const profile = mkdtempSync(join(tmpdir(), 'friscy-chromium-'));
let browser;
try {
  // A fresh profile directory (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 640 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic',
    ],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  const consoleErrors = [];
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    p.on('pageerror', (e) => consoleErrors.push(String(e)));
    return p;
  };
  watch(page);

  /** Load `url` in `page` and wait until the guest waits for input; returns timing and screen. */
  async function loadToPrompt(page, url) {
    await page.goto(url);
    await page.waitForFunction(() => window.friscyDemo?.state === 'waiting-input' || window.friscyDemo?.state === 'error',
      null, { timeout: TIMEOUT });
    // xterm.js parses writes asynchronously: the guest can be waiting for input before its
    // prompt is in the terminal's buffer (seen on a loaded machine).
    await page.waitForFunction(() => window.friscyDemo.state === 'error' || /\$ ?$/.test(window.friscyDemo.screenText()),
      null, { timeout: TIMEOUT }).catch(() => {});
    return page.evaluate(() => ({
      promptAtMs: window.friscyDemo.promptAtMs,
      marks: window.friscyDemo.marks,
      screen: window.friscyDemo.screenText(),
      state: window.friscyDemo.state,
      heapMiB: window.friscyDemo.wasmHeapBytes / 2 ** 20,
      compatMode: document.compatMode,
    }));
  }
  const describe = (t) => `${t.promptAtMs.toFixed(0)} ms, wasm memory ${t.heapMiB?.toFixed(0)} MiB (${Object.entries(t.marks).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`;
  const screenOf = (p) => p.evaluate(() => window.friscyDemo.screenText());
  const waitScreen = (p, re) => p.waitForFunction((src) => new RegExp(src).test(window.friscyDemo.screenText()),
    re.source, { timeout: TIMEOUT }).catch(() => {});

  // 1. The default page: boot the rootfs, get busybox sh's prompt, run two commands.
  const timing = await loadToPrompt(page, `${base}/index.html`);
  check(timing.compatMode === 'CSS1Compat', 'the page renders in standards mode');
  check(timing.state === 'waiting-input', 'the page boots the rootfs and the shell waits for input', timing.screen);
  check(/\$ $/.test(timing.screen), 'terminal ends with the shell prompt "$ "', timing.screen);
  console.log(`load to shell prompt (rootfs not cached): ${describe(timing)}`);
  check(await page.evaluate(() => document.activeElement?.closest('#terminal') !== null), 'the terminal has the keyboard focus');

  await page.keyboard.type('ls /');
  await page.keyboard.press('Enter');
  await waitScreen(page, /\n\$ $/);
  await page.keyboard.type('echo $((6*7))');
  await page.keyboard.press('Enter');
  await waitScreen(page, /\n42\n\$ $/);
  let screen = await screenOf(page);
  const listing = screen.split('$ ls /')[1]?.split('$ echo')[0] ?? '';
  check(/\busr\b/.test(listing) && /\betc\b/.test(listing) && /\bbin\b/.test(listing), 'ls / lists the rootfs (bin, etc, usr)', screen);
  check(/\$ echo \$\(\(6\*7\)\)\n42\n\$ $/.test(screen), 'echo $((6*7)) prints 42 and a new prompt', screen);
  mkdirSync(BUILD, { recursive: true });
  await page.screenshot({ path: join(BUILD, 'screenshot.png') });
  console.log(`screenshot: ${join(BUILD, 'screenshot.png')}`);

  // Ctrl-C interrupts a foreground program (cat, in canonical mode) and the shell prompts again.
  await page.keyboard.type('cat');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.friscyDemo.state === 'waiting-input', null, { timeout: TIMEOUT });
  await page.keyboard.type('typed');
  await page.keyboard.press('Control+c');
  await waitScreen(page, /\$ cat\ntyped\^C\n?\$ $/);
  screen = await screenOf(page);
  check(/\$ cat\ntyped\^C\n?\$ $/.test(screen), 'cat echoes in canonical mode; Ctrl-C ends it and the prompt returns', screen.slice(-200));

  // 2. The same page again in the same browser: the rootfs comes from the HTTP cache (304).
  const page2 = watch(await browser.newPage());
  const cached = await loadToPrompt(page2, `${base}/index.html`);
  check(cached.state === 'waiting-input' && /\$ $/.test(cached.screen), 'second load (rootfs in the browser cache) reaches the prompt', cached.screen);
  console.log(`load to shell prompt (rootfs cached): ${describe(cached)}`);
  await page2.close();

  // 3. The calculator demo (?elf=): prompt, 6*7, line editing, terminal size, Ctrl-D.
  const page3 = watch(await browser.newPage());
  const calc = await loadToPrompt(page3, `${base}/index.html?elf=build/calc`);
  check(calc.state === 'waiting-input' && /\$ ?$/.test(calc.screen), 'calculator demo (?elf=build/calc) shows its prompt', calc.screen);
  console.log(`load to calculator prompt: ${describe(calc)}`);
  await page3.click('#terminal');
  await page3.keyboard.type('6*7');
  await page3.keyboard.press('Enter');
  await page3.keyboard.type('2+3x');
  await page3.keyboard.press('Backspace');
  await page3.keyboard.press('Enter');
  await page3.keyboard.press('ArrowUp');
  await page3.keyboard.type('*10');
  await page3.keyboard.press('Enter');
  await page3.keyboard.type('size');
  await page3.keyboard.press('Enter');
  await waitScreen(page3, /columns\n\$ ?$/);
  screen = await screenOf(page3);
  const size = await page3.evaluate(() => [window.friscyDemo.rows, window.friscyDemo.cols]);
  check(/\$ 6\*7\n42\n/.test(screen), 'calc: 6*7 -> 42', screen);
  check(/\$ 2\+3\n5\n/.test(screen) && /\$ 2\+3\*10\n32\n/.test(screen), 'calc: Backspace and Up (history) edit lines', screen);
  check(screen.includes(`${size[0]} rows x ${size[1]} columns`), `calc sees the terminal size (${size[0]}x${size[1]})`, screen);
  await page3.keyboard.press('Control+d');
  await page3.waitForFunction(() => window.friscyDemo.state === 'exited', null, { timeout: TIMEOUT }).catch(() => {});
  const exited = await page3.evaluate(() => [window.friscyDemo.state, window.friscyDemo.exitStatus]);
  check(exited[0] === 'exited' && exited[1] === 0, 'calc: Ctrl-D exits with status 0', String(exited));
  check(consoleErrors.length === 0, 'no errors in the page console', consoleErrors.join('\n'));

  writeFileSync(join(BUILD, 'browser-timing.json'), JSON.stringify({ loadToPromptMs: timing.promptAtMs, cachedLoadToPromptMs: cached.promptAtMs, calcLoadToPromptMs: calc.promptAtMs, marks: timing.marks, cachedMarks: cached.marks }) + '\n');
} catch (e) {
  check(false, 'browser test ran', String(e.stack ?? e));
} finally {
  if (browser) await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
