// Desktop start-up benchmark: fresh launch → workspace painted, and resident memory after 10 s
// idle, for the desktop app (Tauri + WebKitGTK + embedded runner) side by side with the browser
// setup it replaces (`polder serve` + Chromium on the same UI). Both are measured through their
// automation driver (WebKitWebDriver / CDP), from the launch request to the pipeline list shown.
// Run: tests/desktop/session.sh node bench/desktop/startup.mjs [launches=5]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { remote } from "webdriverio";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "polder", "target");
const appBin = join(target, "debug", "polder-app");
const polderBin = join(target, "debug", "polder");
const launches = Number(process.argv[2] || 5);
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** RSS (MiB) of `pid` and all its descendants (without `pid` itself when `withRoot` is false). */
function treeRss(pid, withRoot = true) {
  const parent = new Map();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const inTree = (p) => {
    for (let q = p; q > 1; q = parent.get(q) ?? 0) if (q === pid) return true;
    return false;
  };
  let kb = 0;
  for (const p of parent.keys()) {
    if (!inTree(p) || (!withRoot && p === pid)) continue;
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

function workspace() {
  const ws = mkdtempSync(join(tmpdir(), "polder-bench-desktop-"));
  for (let i = 0; i < 5; i++) {
    mkdirSync(join(ws, `p${i}`));
    writeFileSync(join(ws, `p${i}`, "pipeline.toml"), `[pipeline]\nname = "p${i}"\n\n[[task]]\nid = "t"\nkind = "sql"\nsql = "SELECT 1 AS x"\n`);
  }
  return ws;
}

async function desktopOnce() {
  const ws = workspace();
  const info = join(ws, ".info.json");
  const driver = spawn("tauri-driver", ["--port", "4444", "--native-driver", "/usr/bin/WebKitWebDriver"], {
    env: { ...process.env, POLDER_APP_INFO: info, RUST_LOG: "warn" },
    stdio: "ignore",
  });
  for (let i = 0; i < 200 && !(await fetch("http://127.0.0.1:4444/status").then((r) => r.ok).catch(() => false)); i++) await sleep(25);
  const t0 = performance.now();
  const b = await remote({ hostname: "127.0.0.1", port: 4444, logLevel: "error", capabilities: { "tauri:options": { application: appBin, args: ["--workspace", ws] } } });
  await (await b.$('[data-testid="pipeline-p4"]')).waitForDisplayed({ timeout: 30_000 });
  const paint = performance.now() - t0;
  await sleep(10_000);
  const rss = treeRss(JSON.parse(readFileSync(info, "utf8")).pid);
  await b.deleteSession().catch(() => {});
  driver.kill();
  await sleep(300);
  rmSync(ws, { recursive: true, force: true });
  return { paint, rss };
}

async function browserOnce() {
  const ws = workspace();
  const t0 = performance.now();
  const server = spawn(polderBin, ["--workspace", ws, "serve", "--bind", "127.0.0.1:0", "--ui-dir", join(root, "ui", "dist")], {
    env: { ...process.env, POLDER_TOKEN: "bench" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const base = await new Promise((ok) => server.stdout.once("data", (d) => ok(d.toString().trim().split(" ").pop())));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run"], headless: false });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(([url]) => {
    localStorage.setItem("polder.runnerUrl", url);
    localStorage.setItem("polder.token", "bench");
  }, [base]);
  await page.goto(base);
  await page.getByTestId("pipeline-p4").waitFor();
  const paint = performance.now() - t0;
  await sleep(10_000);
  // polder serve and Chromium (all its processes) are this script's children.
  const rss = treeRss(process.pid, false);
  await browser.close();
  server.kill();
  rmSync(ws, { recursive: true, force: true });
  return { paint, rss };
}

if (!existsSync(appBin)) throw new Error(`${appBin} missing: cargo build --workspace --bins`);
const rows = [];
for (const [name, once] of [
  ["desktop app (Tauri + embedded runner)", desktopOnce],
  ["polder serve + Chromium", browserOnce],
]) {
  await once(); // warm the disk cache
  const runs = [];
  for (let i = 0; i < launches; i++) runs.push(await once());
  rows.push({ name, paint: median(runs.map((r) => r.paint)), rss: median(runs.map((r) => r.rss)) });
  console.log(name, JSON.stringify(runs.map((r) => [Math.round(r.paint), Math.round(r.rss)])));
}
console.log(`\n| setup | launch → workspace painted (median of ${launches}) | RSS after 10 s idle |`);
console.log("|---|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${r.paint.toFixed(0)} ms | ${r.rss.toFixed(0)} MiB |`);
