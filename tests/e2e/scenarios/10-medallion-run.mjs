// The medallion example: every task and edge on the canvas, a run turns nodes green live, and
// the gold output shows in the grid with its row count.
import { cpSync } from "node:fs";
import { join } from "node:path";

export function setup({ root, ws, polder }) {
  cpSync(join(root, "examples", "medallion"), join(ws, "medallion"), {
    recursive: true,
    filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)),
  });
  polder("gen", "medallion", "--out", join(ws, "medallion", "data", "logs"), "--rows", "20000");
}

export async function run({ page, api, check, login, shots }) {
  await check("log in with the runner's token", async () => {
    await login();
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
    // Seen states go pending/running → success; sinks finish in any order, so wait for all.
    const states = () => page.$$eval('[data-testid^="node-"][data-state]', (ns) => ns.map((n) => n.getAttribute("data-state")));
    // Read before clicking Run: bronze can finish within the click's round trip.
    const before = await states();
    if (before.includes("success")) throw new Error(`states before the run: ${before}`);
    await page.getByTestId("run-pipeline").click();
    await page
      .waitForFunction(() => {
        const s = [...document.querySelectorAll('[data-testid^="node-"][data-state]')].map((n) => n.getAttribute("data-state"));
        return s.length > 0 && s.every((x) => x === "success");
      }, null, { timeout: 120_000 })
      .catch(async () => {
        throw new Error(`states after the run: ${await states()}`);
      });
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
}
