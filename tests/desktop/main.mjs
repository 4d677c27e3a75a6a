// End-to-end test of the desktop app: the real polder-app binary (Tauri, WebKitGTK) driven over
// WebDriver (tauri-driver → WebKitWebDriver, client webdriverio), with its embedded runner, a
// second `polder serve` to deploy to, and the OS keyring of the session. Run it through
// `tests/desktop/session.sh node tests/desktop/main.mjs`, which provides the X server, the D-Bus
// session and the keyring.
// Screenshots go to tests/desktop/screenshots/.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { remote } from "webdriverio";
import { createChecks } from "../e2e/lib/checks.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "polder", "target");
const appBin = join(target, "debug", "polder-app");
const polderBin = join(target, "debug", "polder");
const shots = join(root, "tests", "desktop", "screenshots");
mkdirSync(shots, { recursive: true });
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const { check, summary } = createChecks();

/** Polls `fn` until it returns a truthy value or `ms` pass. */
async function until(what, fn, ms = 10_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A screenshot of the X display (Xvfb's framebuffer file, XWD format, 24-bit colour in 32-bit
 * pixels), cropped to `rect`, as a PNG. WebKitWebDriver's own screenshot command hangs under
 * Xvfb, and this one shows what really reached the screen.
 */
export function screenshotX(rect) {
  const xwd = readFileSync(process.env.POLDER_XVFB_SCREEN);
  const u32 = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, bpp, bytesPerLine, ncolors, byteOrder] = [u32(0), u32(11), u32(12), u32(19), u32(7)];
  const [screenW, screenH] = [u32(4), u32(5)];
  if (bpp !== 32) throw new Error(`Xvfb screen has ${bpp} bits per pixel; start it with -screen 0 WxHx24`);
  const data = headerSize + ncolors * 12;
  const x0 = Math.max(0, Math.round(rect.x));
  const y0 = Math.max(0, Math.round(rect.y));
  const w = Math.min(screenW - x0, Math.round(rect.width));
  const h = Math.min(screenH - y0, Math.round(rect.height));
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = data + (y0 + y) * bytesPerLine + (x0 + x) * 4;
      const dst = (y * w + x) * 4;
      // LSBFirst: B, G, R, pad; MSBFirst: pad, R, G, B.
      const [r, g, b] = byteOrder === 0 ? [xwd[src + 2], xwd[src + 1], xwd[src]] : [xwd[src + 1], xwd[src + 2], xwd[src + 3]];
      png.data[dst] = r;
      png.data[dst + 1] = g;
      png.data[dst + 2] = b;
      png.data[dst + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** Share of pixels that differ from the most common colour, and the number of distinct colours. */
export function inkOf(pngBytes) {
  const png = PNG.sync.read(pngBytes);
  const counts = new Map();
  for (let i = 0; i < png.data.length; i += 4) {
    const key = (png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = png.width * png.height;
  const dominant = Math.max(...counts.values());
  return { width: png.width, height: png.height, ink: 1 - dominant / total, colours: counts.size };
}

// A workspace with one small DuckDB pipeline.
const ws = mkdtempSync(join(tmpdir(), "polder-desktop-ws-"));
const NAME = "shell_demo";
const pdir = join(ws, NAME);
mkdirSync(pdir);
writeFileSync(
  join(pdir, "pipeline.toml"),
  `# A pipeline for the desktop test.
[pipeline]
name = "${NAME}"
description = "first description"
schedule = "0 3 * * *"
engine = "duckdb"

[[task]]
id = "numbers"
kind = "sql"
sql = "SELECT range AS n, range * range AS sq FROM range(1000)"
`,
);

// The runner to deploy to.
const REMOTE_TOKEN = "desktop-remote-token";
const remoteWs = mkdtempSync(join(tmpdir(), "polder-desktop-remote-"));
const remoteProc = spawn(polderBin, ["--workspace", remoteWs, "serve", "--bind", "127.0.0.1:0"], {
  env: { ...process.env, POLDER_TOKEN: REMOTE_TOKEN },
  stdio: ["ignore", "pipe", "inherit"],
});
const remoteBase = await new Promise((resolve, reject) => {
  remoteProc.stdout.once("data", (b) => resolve(b.toString().trim().split(" ").pop()));
  remoteProc.once("exit", (code) => reject(new Error(`remote runner exited with ${code}`)));
});

// The workspace the folder dialog switches to: the only folder of its parent.
const otherWs = join(mkdtempSync(join(tmpdir(), "polder-desktop-other-")), "ws2");
let relaunched = null;

// tauri-driver starts WebKitWebDriver, which starts the app with the session's environment.
const info = join(ws, ".app-info.json");
const driver = spawn("tauri-driver", ["--port", "4444", "--native-driver", "/usr/bin/WebKitWebDriver"], {
  env: { ...process.env, POLDER_APP_INFO: info, RUST_LOG: process.env.RUST_LOG || "info,tao=warn,wry=warn" },
  stdio: ["ignore", "inherit", "inherit"],
});
await until("tauri-driver on :4444", async () => (await fetch("http://127.0.0.1:4444/status")).ok, 20_000);

const t0 = Date.now();
const browser = await remote({
  hostname: "127.0.0.1",
  port: 4444,
  logLevel: "warn",
  capabilities: { "tauri:options": { application: appBin, args: ["--workspace", ws] } },
});
let app = null;
const api = async (path, init = {}) => {
  const r = await fetch(app.url + path, { ...init, headers: { Authorization: `Bearer ${app.token}`, "Content-Type": "application/json", ...(init.headers || {}) } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
};
const byTest = (id) => browser.$(`[data-testid="${id}"]`);

try {
  await check("shell: the embedded runner listens on 127.0.0.1 and answers only with this launch's token", async () => {
    app = JSON.parse(await until("the app's info file", async () => existsSync(info) && readFileSync(info, "utf8")));
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(app.url)) throw new Error(app.url);
    const ok = await fetch(`${app.url}/api/status`, { headers: { Authorization: `Bearer ${app.token}` } });
    if (ok.status !== 200) throw new Error(`with the token: ${ok.status}`);
    const none = await fetch(`${app.url}/api/pipelines`);
    const wrong = await fetch(`${app.url}/api/pipelines`, { headers: { Authorization: "Bearer nope" } });
    if (none.status !== 401 || wrong.status !== 401) throw new Error(`without: ${none.status}, wrong: ${wrong.status}`);
    // The token is made per launch, not the workspace's stored one (none was written).
    if (existsSync(join(ws, ".polder", "runner", "token.blake3"))) throw new Error("the app stored a token in the workspace");
    const pipelines = await api("/api/pipelines");
    if (!pipelines.some((p) => p.name === NAME)) throw new Error(JSON.stringify(pipelines));
  });

  await check("shell: the window renders the workspace (screenshot not blank)", async () => {
    const item = await byTest(`pipeline-${NAME}`);
    await item.waitForDisplayed({ timeout: 20_000 });
    console.log(`     first paint of the workspace ${Date.now() - t0} ms after the session was requested`);
    await item.click();
    await (await byTest("view-canvas")).waitForDisplayed();
    const conn = await (await browser.$(".conn")).getText();
    if (!conn.includes(ws.split("/").pop())) throw new Error(`top bar shows ${conn}, not the workspace`);
    // Signed in by the app: no login form, no sign-out button.
    if (await (await byTest("sign-out")).isExisting()) throw new Error("sign-out shown in the desktop app");
    await sleep(500); // let the canvas lay out
    const file = join(shots, "desktop-workspace.png");
    writeFileSync(file, screenshotX(await browser.getWindowRect()));
    const { width, height, ink, colours } = inkOf(readFileSync(file));
    console.log(`     screenshot ${width}x${height}: ${(ink * 100).toFixed(1)}% ink, ${colours} colours`);
    if (width < 600 || height < 400 || ink < 0.05 || colours < 50) throw new Error(`blank-looking window: ${JSON.stringify({ width, height, ink, colours })}`);
  });

  await check("shell: the window's page refuses an injected inline script (the runner's CSP holds in WebKitGTK)", async () => {
    await browser.execute(() => {
      window.__cspSeen = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__cspSeen.push(e.effectiveDirective || e.violatedDirective));
      const s = document.createElement("script");
      s.textContent = "window.__injected = 1";
      document.body.appendChild(s);
    });
    await sleep(300);
    const got = await browser.execute(() => ({ injected: window.__injected ?? null, seen: window.__cspSeen }));
    if (got.injected !== null || !got.seen.some((d) => String(d).startsWith("script-src"))) throw new Error(JSON.stringify(got));
  });

  await check("shell: a file edited on disk shows up in the UI within a second; a new pipeline appears, a broken one shows its error", async () => {
    const spec = join(pdir, "pipeline.toml");
    writeFileSync(spec, readFileSync(spec, "utf8").replace("first description", "edited outside the app"));
    const t = Date.now();
    const toolbar = () => browser.execute(() => document.querySelector(".toolbar")?.textContent ?? "");
    if (!(await toolbar()).includes("first description")) throw new Error(`toolbar: ${await toolbar()}`);
    await until("the new description", async () => (await toolbar()).includes("edited outside the app"), 3_000);
    const ms = Date.now() - t;
    console.log(`     edit on disk → shown in ${ms} ms`);
    if (ms > 1000) throw new Error(`took ${ms} ms`);
    cpSync(pdir, join(ws, "copied"), { recursive: true, filter: (p) => !p.includes(".polder") });
    const copySpec = join(ws, "copied", "pipeline.toml");
    writeFileSync(copySpec, readFileSync(copySpec, "utf8").replace(`name = "${NAME}"`, 'name = "copied"'));
    await (await byTest("pipeline-copied")).waitForDisplayed({ timeout: 3_000 });
    // Broken files show their error on that pipeline; the rest of the workspace carries on.
    writeFileSync(copySpec, readFileSync(copySpec, "utf8").replace('kind = "sql"', 'kind = "sqll"'));
    const entry = () => browser.execute(() => document.querySelector('[data-testid="pipeline-copied"]')?.textContent ?? "");
    await until("the loader's error on the broken pipeline", async () => /sqll/.test(await entry()), 3_000);
    if (!(await browser.execute(() => !!document.querySelector('[data-testid="pipeline-shell_demo"]')))) throw new Error("the valid pipeline vanished");
  });

  await check("shell: a remote runner's token goes to the OS keyring, not to a file", async () => {
    await (await byTest("runners-button")).click();
    await (await byTest("remote-url")).setValue(remoteBase);
    await (await byTest("remote-name")).setValue("prod");
    await (await byTest("remote-token")).setValue(REMOTE_TOKEN);
    await (await byTest("remote-add")).click();
    await (await byTest("remote-prod")).waitForDisplayed();
    const listed = await api("/api/remotes");
    if (listed[0]?.token_store !== "keyring") throw new Error(`token store: ${JSON.stringify(listed)} (is a Secret Service running?)`);
    const stored = readFileSync(join(ws, ".polder", "runner", "remotes.json"), "utf8");
    if (stored.includes(REMOTE_TOKEN)) throw new Error("token written to remotes.json");
    const shown = await (await byTest("remote-store-prod")).getText();
    if (!shown.includes("keyring")) throw new Error(shown);
    await browser.keys("Escape");
    await (await byTest("remotes-settings")).waitForExist({ reverse: true });
  });

  await check("shell: a connection's secret goes to the OS keyring, not to a file", async () => {
    const SECRET = "desktop-lake-Secret-8231";
    await (await byTest("connections-button")).click();
    await (await byTest("connection-add")).click();
    await (await byTest("connection-field-name")).setValue("lake");
    await (await byTest("connection-field-endpoint")).setValue("http://127.0.0.1:9");
    await (await byTest("connection-field-secret_access_key")).setValue(SECRET);
    await (await byTest("connection-save")).click();
    await (await byTest("connection-row-lake")).waitForDisplayed();
    const shown = (await (await byTest("connection-secret-lake-secret_access_key")).getText()).trim();
    if (shown !== "set") throw new Error(`secret shown as ${shown}`);
    const listed = await api("/api/connections");
    const lake = listed.connections.find((c) => c.name === "lake");
    const secret = lake?.settings.find((x) => x.key === "secret_access_key");
    if (secret?.reference !== "${secret:lake-secret_access_key}" || secret?.resolved !== true) throw new Error(JSON.stringify(listed));
    if (JSON.stringify(listed).includes(SECRET)) throw new Error("the API answered the secret");
    // Read back from the keyring (the runner's encrypted file store is not used in the app).
    if (existsSync(join(ws, ".polder", "secrets.json"))) throw new Error("the secret went to the file store");
    for (const f of [join(ws, "connections.toml"), join(ws, ".polder", "runner", "keyring-secrets.json")]) {
      if (readFileSync(f, "utf8").includes(SECRET)) throw new Error(`the secret is in ${f}`);
    }
    await (await byTest("connections-close")).click();
    await (await byTest("connections-view")).waitForExist({ reverse: true });
  });

  await check("shell: the Deploy button sends the pipeline to the other runner, which runs it", async () => {
    await (await byTest(`pipeline-${NAME}`)).click();
    await (await byTest("deploy-open")).click();
    await (await byTest("deploy-target")).selectByAttribute("value", "prod");
    await (await byTest("deploy-go")).click();
    const result = await byTest("deploy-result");
    await result.waitForDisplayed({ timeout: 30_000 });
    const text = await result.getText();
    if (!text.includes(`${NAME} v1 on prod`) || !text.includes("schedule 0 3 * * *") || !text.includes("next run")) throw new Error(text);
    writeFileSync(join(shots, "desktop-deployed.png"), screenshotX(await browser.getWindowRect()));
    // The remote has it and runs it (the token came from the keyring for this call too).
    const headers = { Authorization: `Bearer ${REMOTE_TOKEN}`, "Content-Type": "application/json" };
    const { run_id } = await (await fetch(`${remoteBase}/api/pipelines/${NAME}/runs`, { method: "POST", headers, body: "{}" })).json();
    const done = await until("the remote run", async () => {
      const d = await (await fetch(`${remoteBase}/api/runs/${run_id}`, { headers })).json();
      return d.run.status === "success" ? d : null;
    }, 30_000);
    const out = await (await fetch(`${remoteBase}/api/runs/${run_id}/tasks/numbers/output?limit=5`, { headers })).json();
    if (out.total_rows !== 1000 || out.rows[3].sq !== 9) throw new Error(JSON.stringify(out).slice(0, 300));
    if (done.run.status !== "success") throw new Error(done.run.status);
  });

  await check("shell: 'watch it there' shows the remote runner's run in the app", async () => {
    await (await byTest("deploy-watch")).click();
    await until("the switch on prod", async () => (await (await byTest("runner-switch")).getValue()) === "prod");
    // The list is reloaded from the remote after the switch: an item found just before the
    // reload is gone by the click (a stale element once), so find and click it again until it takes.
    await until(`pipeline ${NAME} on prod clicked`, async () => {
      await (await byTest(`pipeline-${NAME}`)).click();
      return true;
    });
    await (await browser.$('[data-testid="runs-list"] [data-testid^="run-"]')).waitForDisplayed({ timeout: 10_000 });
    writeFileSync(join(shots, "desktop-watching-remote.png"), screenshotX(await browser.getWindowRect()));
    await (await byTest("runner-switch")).selectByAttribute("value", "");
  });

  await check("shell: the workspace is remembered for the next launch", async () => {
    const settings = JSON.parse(readFileSync(join(process.env.XDG_CONFIG_HOME, "dev.polder.app", "settings.json"), "utf8"));
    if (settings.last_workspace !== ws) throw new Error(JSON.stringify(settings));
  });

  // The app relaunches itself on the chosen folder, outside the WebDriver session.
  await check("shell: Ctrl+O opens the native folder dialog and the app reopens on the chosen workspace", async () => {
    mkdirSync(join(otherWs, "second"), { recursive: true });
    writeFileSync(join(otherWs, "second", "pipeline.toml"), '[pipeline]\nname = "second"\n\n[[task]]\nid = "t"\nkind = "sql"\nsql = "SELECT 2 AS x"\n');
    const xdo = (...args) => execFileSync("xdotool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const win = xdo("search", "--name", "— Polder").split("\n")[0];
    try {
      xdo("windowfocus", "--sync", win);
    } catch {
      /* no window manager: focus stays with the pointer's window, which is the app's */
    }
    xdo("key", "ctrl+o");
    const dialog = await until("the folder dialog", async () => xdo("search", "--name", "Open a workspace folder").split("\n")[0], 10_000);
    try {
      xdo("windowfocus", "--sync", dialog);
    } catch {
      /* as above */
    }
    // GTK's chooser: typing a path opens its location bar; Return goes into the parent, whose
    // only folder is then highlighted, and Return picks it.
    // The waits are generous: right after the browser test the machine is busy, and a key that
    // reaches the chooser before it has taken the typed path picks another folder (seen once).
    xdo("type", "--delay", "30", dirname(otherWs));
    await sleep(1500);
    xdo("key", "Return");
    await sleep(1500);
    xdo("key", "Return");
    const next = await until("the relaunched app", async () => {
      const i = JSON.parse(readFileSync(info, "utf8"));
      return i.workspace === otherWs && i.pid !== app.pid ? i : null;
    }, 30_000).catch((e) => {
      // Says what the app did instead: not relaunched, or relaunched on another folder.
      const { workspace, pid } = JSON.parse(readFileSync(info, "utf8"));
      throw new Error(`${e.message}; the app's info file names workspace ${workspace}, pid ${pid} (first launch: pid ${app.pid})`);
    });
    relaunched = next.pid;
    const r = await fetch(`${next.url}/api/pipelines`, { headers: { Authorization: `Bearer ${next.token}` } });
    const names = (await r.json()).map((p) => p.name);
    if (JSON.stringify(names) !== JSON.stringify(["second"])) throw new Error(JSON.stringify(names));
    const settings = JSON.parse(readFileSync(join(process.env.XDG_CONFIG_HOME, "dev.polder.app", "settings.json"), "utf8"));
    if (settings.last_workspace !== otherWs) throw new Error(JSON.stringify(settings));
  });

  await check("shell: a workspace that cannot be opened is explained in a dialog, then the app quits", async () => {
    const notAFolder = join(ws, "not-a-folder.txt");
    writeFileSync(notAFolder, "x");
    const proc = spawn(appBin, ["--workspace", notAFolder], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (b) => (stderr += b));
    const exited = new Promise((ok) => proc.once("exit", (code) => ok(code)));
    const xdo = (...args) => execFileSync("xdotool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dialog = await until("the error dialog", async () => xdo("search", "--name", "Polder could not start").split("\n")[0], 15_000);
    if (!stderr.includes("is a file; give a folder of pipelines")) throw new Error(`stderr: ${stderr.slice(-500)}`);
    try {
      xdo("windowfocus", "--sync", dialog);
    } catch {
      /* no window manager: the pointer's window has the focus */
    }
    xdo("key", "Return");
    const code = await Promise.race([exited, sleep(10_000).then(() => "still running")]);
    if (code !== 1) throw new Error(`exit: ${code}`);
  });
} finally {
  if (relaunched) process.kill(relaunched);
  await browser.deleteSession().catch(() => {});
  driver.kill();
  remoteProc.kill();
  await sleep(200);
  rmSync(ws, { recursive: true, force: true });
  rmSync(remoteWs, { recursive: true, force: true });
  rmSync(dirname(otherWs), { recursive: true, force: true });
}

process.exit(summary("desktop") ? 1 : 0);
