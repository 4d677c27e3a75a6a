// End-to-end test of the web UI in a real browser: Debian's Chromium driven by playwright-core,
// against `polder serve` on 127.0.0.1 serving ui/dist. Screenshots go to tests/e2e/screenshots/.
// Run: node tests/e2e/ui.e2e.mjs   (after `npm run build` and a cargo build of the workspace)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, cpSync, rmSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "polder", "target");
const polder = join(target, "debug", "polder");
const shots = join(root, "tests", "e2e", "screenshots");
const TOKEN = "e2e-token";
mkdirSync(shots, { recursive: true });

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, e]);
    console.log(`FAIL ${name}: ${e?.stack || e}`);
  }
}

const ws = mkdtempSync(join(tmpdir(), "polder-e2e-"));
cpSync(join(root, "examples", "medallion"), join(ws, "medallion"), { recursive: true, filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)) });
execFileSync(polder, ["gen", "medallion", "--out", join(ws, "medallion", "data", "logs"), "--rows", "20000"]);

const server = spawn(polder, ["--workspace", ws, "serve", "--bind", "127.0.0.1:0", "--ui-dir", join(root, "ui", "dist")], {
  env: { ...process.env, POLDER_TOKEN: TOKEN },
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((resolve, reject) => {
  server.stdout.once("data", (b) => resolve(b.toString().trim().split(" ").pop()));
  server.once("exit", (code) => reject(new Error(`polder serve exited with ${code}`)));
});
const api = async (path, init = {}) => {
  const r = await fetch(base + path, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...(init.headers || {}) } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
page.setDefaultTimeout(30_000);

try {
  await check("log in with the runner's token", async () => {
    await page.goto(base);
    await page.getByTestId("login-token").fill(TOKEN);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("pipeline-medallion").waitFor();
  });

  await check("every task of examples/medallion is on the canvas", async () => {
    await page.getByTestId("pipeline-medallion").click();
    const spec = await api("/api/pipelines/medallion");
    for (const t of spec.tasks) await page.getByTestId(`node-${t.id}`).waitFor();
    const edges = await page.locator(".react-flow__edge").count();
    if (edges !== spec.edges.length) throw new Error(`${edges} edges drawn, the pipeline has ${spec.edges.length}`);
    await page.screenshot({ path: join(shots, "canvas.png") });
  });

  await check("running the pipeline turns the nodes green, live", async () => {
    await page.getByTestId("run-pipeline").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="node-gold_table"]')?.getAttribute("data-state") === "success", null, { timeout: 120_000 });
    const states = await page.$$eval('[data-testid^="node-"]', (ns) => ns.map((n) => n.getAttribute("data-state")));
    if (!states.every((s) => s === "success")) throw new Error(`states after the run: ${states}`);
    // The run panel reloads the run's details shortly after the last event.
    await page.waitForFunction(() => document.querySelector(".run-detail .status-text")?.textContent === "success");
    await page.screenshot({ path: join(shots, "run-success.png") });
  });

  await check("the gold output shows in the grid with its row count", async () => {
    const gold = await api("/api/pipelines/medallion/tasks/gold/output?limit=1");
    await page.getByTestId("node-gold").click();
    await page.getByTestId("output-grid").waitFor();
    await page.waitForFunction((n) => document.querySelector('[data-testid="output-total"]')?.textContent?.replace(/[^0-9]/g, "") === String(n), gold.total_rows);
    await page.screenshot({ path: join(shots, "output-grid.png") });
  });
} finally {
  await browser.close();
  server.kill();
  rmSync(ws, { recursive: true, force: true });
}

const failed = results.filter(([, e]) => e).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
