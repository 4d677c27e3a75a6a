// End-to-end tests of the web UI in a real browser: Debian's Chromium driven by playwright-core,
// against one `polder serve` on 127.0.0.1 serving ui/dist. Every module in scenarios/ (in name
// order) exports `setup(ctx)` (optional: prepare the workspace before the runner starts) and
// `run(ctx)` (register checks with ctx.check). Screenshots go to tests/e2e/screenshots/.
// Run: node tests/e2e/main.mjs [name-filter]   (after `npm run build` and a cargo build)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { createChecks } from "./lib/checks.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "polder", "target");
const polder = join(target, "debug", "polder");
const shots = join(root, "tests", "e2e", "screenshots");
const TOKEN = "e2e-token";
mkdirSync(shots, { recursive: true });

// A part of the scenarios' file names, or a regular expression (`'^(45|50)'` runs two of them).
const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
const dir = join(root, "tests", "e2e", "scenarios");
const files = readdirSync(dir).filter((f) => f.endsWith(".mjs") && (!only || only.test(f))).sort();
const scenarios = [];
for (const f of files) scenarios.push({ name: f, mod: await import(pathToFileURL(join(dir, f)).href) });

const { check, summary } = createChecks();

const ws = mkdtempSync(join(tmpdir(), "polder-e2e-"));
const ctx = {
  root,
  ws,
  shots,
  token: TOKEN,
  check,
  /** The polder binary, for scenarios that start a runner of their own. */
  polderBin: polder,
  /** Runs the polder CLI (synchronously) and returns its stdout. */
  polder: (...args) => execFileSync(polder, args, { encoding: "utf8" }),
};
for (const s of scenarios) if (s.mod.setup) await s.mod.setup(ctx);

const server = spawn(polder, ["--workspace", ws, "serve", "--bind", "127.0.0.1:0", "--ui-dir", join(root, "ui", "dist")], {
  env: { ...process.env, POLDER_TOKEN: TOKEN },
  stdio: ["ignore", "pipe", "inherit"],
});
server.on("exit", (code, signal) => console.log(`polder serve exited: code ${code}, signal ${signal}`));
ctx.base = await new Promise((resolve, reject) => {
  server.stdout.once("data", (b) => resolve(b.toString().trim().split(" ").pop()));
  server.once("exit", (code) => reject(new Error(`polder serve exited with ${code}`)));
});
/** Calls the runner's API with the token; JSON in and out. */
ctx.api = async (path, init = {}) => {
  const r = await fetch(ctx.base + path, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...(init.headers || {}) } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
};

/** Content-Security-Policy violations reported by any page (console messages); the suite fails
 *  on any left over at the end (05-csp removes the ones it provokes). */
ctx.cspViolations = [];
const watchCsp = (page) =>
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) ctx.cspViolations.push(`${page.url()}: ${m.text()}`);
  });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
ctx.browser = browser;
ctx.page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
watchCsp(ctx.page);
ctx.page.setDefaultTimeout(30_000);
/** Opens the UI and logs in (once per page). */
ctx.login = async (page = ctx.page) => {
  await page.goto(ctx.base);
  const token = page.getByTestId("login-token");
  const signedIn = page.locator('[data-testid^="pipeline-"]').first();
  // The token stays in localStorage: a page that signed in before opens signed in.
  await Promise.race([token.waitFor(), signedIn.waitFor()]);
  if (await token.isVisible()) {
    await token.fill(TOKEN);
    await page.getByTestId("login-submit").click();
  }
  await signedIn.waitFor();
};

/** Runs `fn(page)` in a browser context of its own (fresh storage: sign-in, chosen view, theme),
 *  closed afterwards, so a scenario does not depend on what ran before it. */
ctx.withOwnPage = async (fn, timeout = 30_000) => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  watchCsp(page);
  page.setDefaultTimeout(timeout);
  try {
    await fn(page);
  } finally {
    await context.close();
  }
};

try {
  for (const s of scenarios) {
    console.log(`# ${s.name}`);
    await s.mod.run(ctx);
  }
  await check("no Content-Security-Policy violation in any scenario", async () => {
    if (ctx.cspViolations.length) throw new Error(ctx.cspViolations.join("\n"));
  });
} finally {
  await browser.close();
  server.kill();
  if (!process.env.KEEP_WS) rmSync(ws, { recursive: true, force: true });
  else console.log(`workspace kept: ${ws}`);
}

process.exit(summary("browser") ? 1 : 0);
