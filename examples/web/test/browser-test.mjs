// browser-test.mjs: loads the web terminal in headless Debian chromium (playwright-core), types 6*7 at the calculator, expects 42; saves a screenshot.
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
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // 1. The calculator demo: load, wait for the prompt, type, read the terminal.
  await page.goto(`${base}/index.html`);
  await page.waitForFunction(() => window.friscyDemo?.state === 'waiting-input' || window.friscyDemo?.state === 'error',
    null, { timeout: TIMEOUT });
  const timing = await page.evaluate(() => ({
    promptAtMs: window.friscyDemo.promptAtMs,
    marks: window.friscyDemo.marks,
    screen: window.friscyDemo.screenText(),
    state: window.friscyDemo.state,
    compatMode: document.compatMode,
  }));
  check(timing.compatMode === 'CSS1Compat', 'the page renders in standards mode');
  check(timing.state === 'waiting-input', 'page shows the guest prompt', timing.screen);
  check(/\$ ?$/.test(timing.screen), 'terminal ends with the prompt "$ "', timing.screen);
  console.log(`load to prompt: ${timing.promptAtMs.toFixed(0)} ms (${Object.entries(timing.marks).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`);

  await page.click('#terminal');
  await page.keyboard.type('6*7');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /\n42\n\$ ?$/.test(window.friscyDemo.screenText()), null, { timeout: TIMEOUT })
    .catch(() => {});
  let screen = await page.evaluate(() => window.friscyDemo.screenText());
  check(/\$ 6\*7\n42\n\$ ?$/.test(screen), 'typing 6*7 Enter shows 42 and a new prompt', screen);

  // Line editing through the real key path: Backspace and history (Up).
  await page.keyboard.type('2+3x');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.type('*10');
  await page.keyboard.press('Enter');
  await page.keyboard.type('size');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /columns\n\$ ?$/.test(window.friscyDemo.screenText()), null, { timeout: TIMEOUT })
    .catch(() => {});
  screen = await page.evaluate(() => window.friscyDemo.screenText());
  const size = await page.evaluate(() => [window.friscyDemo.rows, window.friscyDemo.cols]);
  check(/\$ 2\+3\n5\n/.test(screen), 'Backspace edits the line (2+3x<BS> -> 5)', screen);
  check(/\$ 2\+3\*10\n32\n/.test(screen), 'Up recalls the last line (2+3*10 -> 32)', screen);
  check(screen.includes(`${size[0]} rows x ${size[1]} columns`), `the guest sees the terminal size (${size[0]}x${size[1]})`, screen);

  mkdirSync(BUILD, { recursive: true });
  await page.screenshot({ path: join(BUILD, 'screenshot.png') });
  console.log(`screenshot: ${join(BUILD, 'screenshot.png')}`);

  // Ctrl-D ends the program; the page reports the exit.
  await page.keyboard.press('Control+d');
  await page.waitForFunction(() => window.friscyDemo.state === 'exited', null, { timeout: TIMEOUT }).catch(() => {});
  const exited = await page.evaluate(() => [window.friscyDemo.state, window.friscyDemo.exitStatus]);
  check(exited[0] === 'exited' && exited[1] === 0, 'Ctrl-D exits the guest with status 0', String(exited));
  check(consoleErrors.length === 0, 'no errors in the page console', consoleErrors.join('\n'));

  // 2. ?image= with a library that cannot boot a rootfs yet: a clear message, no crash.
  const page2 = await browser.newPage();
  await page2.goto(`${base}/index.html?image=rootfs.tar`);
  await page2.waitForFunction(() => window.friscyDemo?.state === 'error', null, { timeout: TIMEOUT }).catch(() => {});
  const msg = await page2.evaluate(() => window.friscyDemo.screenText());
  check(/Cannot boot rootfs\.tar/.test(msg) && /rootfs constructor/.test(msg), '?image= explains that rootfs images are not supported yet', msg);

  writeFileSync(join(BUILD, 'browser-timing.json'), JSON.stringify({ loadToPromptMs: timing.promptAtMs, marks: timing.marks }) + '\n');
} catch (e) {
  check(false, 'browser test ran', String(e.stack ?? e));
} finally {
  if (browser) await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
