// One-click deploy: add a second runner in Settings → Runners, deploy a copy of
// examples/medallion to it with the Deploy button, run it there and get the same gold rows.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NAME = "deploy_demo";
const REMOTE_TOKEN = "remote-e2e-token";

export function setup({ root, ws, polder }) {
  const dir = join(ws, NAME);
  cpSync(join(root, "examples", "medallion"), dir, { recursive: true, filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)) });
  const spec = join(dir, "pipeline.toml");
  writeFileSync(spec, readFileSync(spec, "utf8").replace(/^name = ".*"$/m, `name = "${NAME}"`));
  polder("gen", "medallion", "--out", join(dir, "data", "logs"), "--rows", "20000");
  polder("--workspace", ws, "run", dir);
}

/** A second runner on its own workspace and port; resolves to {base, stop}. */
async function startRemote(bin) {
  const ws = mkdtempSync(join(tmpdir(), "polder-e2e-remote-"));
  const proc = spawn(bin, ["--workspace", ws, "serve", "--bind", "127.0.0.1:0"], {
    env: { ...process.env, POLDER_TOKEN: REMOTE_TOKEN },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await new Promise((resolve, reject) => {
    proc.stdout.once("data", (b) => resolve(b.toString().trim().split(" ").pop()));
    proc.once("exit", (code) => reject(new Error(`remote runner exited with ${code}`)));
  });
  return {
    base,
    stop: () => {
      proc.kill();
      rmSync(ws, { recursive: true, force: true });
    },
  };
}

export async function run({ api, check, shots, polderBin, withOwnPage, login }) {
  const remote = await startRemote(polderBin);
  const remoteApi = async (path, init = {}) => {
    const r = await fetch(remote.base + path, { ...init, headers: { Authorization: `Bearer ${REMOTE_TOKEN}`, "Content-Type": "application/json" } });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  try {
    await withOwnPage((page) => steps(page, { api, check, shots, login, remote, remoteApi }));
  } finally {
    remote.stop();
  }
}

async function steps(page, { api, check, shots, login, remote, remoteApi }) {
  let remoteRun = null;
  await check("deploy: with no runner yet, the Deploy panel offers to add one", async () => {
    await login(page);
    await page.getByTestId(`pipeline-${NAME}`).click();
    await page.getByTestId("deploy-open").click();
    await page.getByTestId("deploy-add-runner").click();
    await page.getByTestId("remotes-settings").waitFor();
  });

  await check("deploy: a runner added in Settings is listed without its token", async () => {
    await page.getByTestId("remote-url").fill(remote.base);
    await page.getByTestId("remote-name").fill("prod");
    await page.getByTestId("remote-token").fill(REMOTE_TOKEN);
    await page.getByTestId("remote-add").click();
    await page.getByTestId("remote-prod").waitFor();
    const listed = await api("/api/remotes");
    // `polder serve` has no OS keyring: the token is in its owner-only file (the desktop app's test covers the keyring).
    if (JSON.stringify(listed) !== JSON.stringify([{ name: "prod", url: remote.base, token_store: "file" }])) throw new Error(JSON.stringify(listed));
    if ((await page.getByTestId("remotes-settings").textContent()).includes(REMOTE_TOKEN)) throw new Error("token shown");
    await page.screenshot({ path: join(shots, "deploy-runners.png") });
    await page.keyboard.press("Escape");
    await page.getByTestId("remotes-settings").waitFor({ state: "detached" });
  });

  await check("deploy: one click deploys the pipeline and shows its version and next run", async () => {
    await page.getByTestId("deploy-open").click();
    await page.getByTestId("deploy-target").selectOption("prod");
    await page.getByTestId("deploy-go").click();
    const result = page.getByTestId("deploy-result");
    await result.waitFor();
    const text = await result.textContent();
    if (!text.includes(`${NAME} v1 on prod`) || !text.includes("schedule 0 2 * * *") || !text.includes("next run")) throw new Error(text);
    await page.screenshot({ path: join(shots, "deploy-done.png") });
    const versions = await remoteApi(`/api/pipelines/${NAME}/versions`);
    if (versions.active !== 1) throw new Error(JSON.stringify(versions));
  });

  await check("deploy: the deployed pipeline runs on the other runner with the same gold output", async () => {
    const { run_id } = await remoteApi(`/api/pipelines/${NAME}/runs`, { method: "POST", body: "{}" });
    for (let t = 0; ; t++) {
      const d = await remoteApi(`/api/runs/${run_id}`);
      if (d.run.status === "success") break;
      if (d.run.status !== "running" || t > 600) throw new Error(`remote run: ${JSON.stringify(d.run)}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const there = await remoteApi(`/api/runs/${run_id}/tasks/gold/output?limit=10000`);
    const here = await api(`/api/pipelines/${NAME}/tasks/gold/output?limit=10000`);
    if (there.total_rows !== here.total_rows || JSON.stringify(there.rows) !== JSON.stringify(here.rows)) {
      throw new Error(`gold differs: ${there.total_rows} rows there, ${here.total_rows} here`);
    }
    // The same rows through this runner's view of the remote (the page never holds the remote's token).
    const proxied = await api(`/api/remotes/prod/api/runs/${run_id}/tasks/gold/output?limit=10000`);
    if (JSON.stringify(proxied.rows) !== JSON.stringify(there.rows)) throw new Error("gold through the local runner differs");
    remoteRun = run_id;
  });

  await check("deploy: 'watch it there' switches the UI to the remote runner, its run and its output", async () => {
    await page.getByTestId("deploy-watch").click();
    if ((await page.getByTestId("runner-switch").inputValue()) !== "prod") throw new Error("switch not on prod");
    await page.getByTestId(`pipeline-${NAME}`).click();
    const row = page.getByTestId(`run-${remoteRun}`);
    await row.waitFor();
    await row.click();
    await page.locator(`[data-testid="run-detail"][data-run="${remoteRun}"][data-status="success"]`).waitFor();
    // Read-only there: no palette, no notebook, a note saying so.
    await page.getByTestId("watching-note").waitFor();
    if (!(await page.getByTestId("view-notebook").isDisabled())) throw new Error("notebook offered on a remote");
    if (await page.getByTestId("palette").count()) throw new Error("palette shown on a remote");
    await page.screenshot({ path: join(shots, "deploy-watching-remote.png") });
    // Back to this runner: its own runs again (the remote's run id is not among them unless ids collide).
    await page.getByTestId("runner-switch").selectOption("");
    await page.getByTestId(`pipeline-${NAME}`).click();
    await page.getByTestId("deploy-open").waitFor();
  });

  await check("deploy: a refused deploy says why", async () => {
    await api("/api/remotes/stale", { method: "PUT", body: JSON.stringify({ url: remote.base, token: "wrong" }) }).catch(() => null);
    // The panel (closed by the switch back) lists the runners anew when it opens.
    await page.getByTestId("deploy-open").click();
    await page.locator('[data-testid="deploy-target"] option[value="stale"]').waitFor({ state: "attached" });
    await page.getByTestId("deploy-target").selectOption("stale");
    await page.getByTestId("deploy-go").click();
    const err = page.getByTestId("deploy-error");
    await err.waitFor();
    const text = await err.textContent();
    if (!text.includes("runner 'stale' refused the token")) throw new Error(text);
  });
}
