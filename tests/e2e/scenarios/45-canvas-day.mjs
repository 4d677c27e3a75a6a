// A day on the canvas (issue 18): the 12-node energy graph legible at Fit (label font size × zoom
// measured in the DOM, compact nodes when zoomed out, full ones zoomed in), "reads from" edges
// solid and "runs after" edges dashed with a legend, a palette click placing a task beside the
// selected one, the data-edge dialog (Enter: `SELECT * FROM gold` written; Esc: nothing; "run
// after": `inputs`), a Python function gaining a parameter, removing a data edge naming the SQL
// line to change, a running task animated, and the "changed since the last successful run" mark.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assert, eq, mouseDrag, until, waitCanvasIdle } from "../lib/ui.mjs";

const ENERGY = "day_energy";
const FLOW = "day_flow";
const NODE_W = 188; // ui/src/components/canvas/placement.ts
const NODE_H = 58;
const REPORT_SQL = "-- Totals per segment (reads gold)\nSELECT g.segment,\n       sum(g.amount) AS total\nFROM gold AS g\nGROUP BY 1\n";

let energyDir;
let flowDir;

export function setup({ root, ws }) {
  energyDir = join(ws, ENERGY);
  cpSync(join(root, "examples", "energy"), energyDir, { recursive: true, filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)) });
  const spec = join(energyDir, "pipeline.toml");
  writeFileSync(spec, readFileSync(spec, "utf8").replace(/^name = ".*"$/m, `name = "${ENERGY}"`));

  flowDir = join(ws, FLOW);
  mkdirSync(join(flowDir, "data"), { recursive: true });
  writeFileSync(join(flowDir, "data", "raw.csv"), "segment,amount\na,3\nb,4\na,5\nb,-1\n");
  writeFileSync(join(flowDir, "report.sql"), REPORT_SQL);
  writeFileSync(
    join(flowDir, "pipeline.toml"),
    `[pipeline]\nname = "${FLOW}"\n\n` +
      `[[task]]\nid = "raw"\nkind = "source"\nformat = "csv"\npath = "data/raw.csv"\n\n` +
      `[[task]]\nid = "gold"\nkind = "sql"\nengine = "duckdb"\nsql = "SELECT segment, amount FROM raw WHERE amount > 0"\n\n` +
      `[[task]]\nid = "report"\nkind = "sql"\nengine = "duckdb"\nfile = "report.sql"\n\n` +
      `[[task]]\nid = "slow"\nkind = "shell"\ncommand = "sleep 4"\ninputs = ["gold"]\n`,
  );
}

const read = (f) => readFileSync(join(flowDir, f), "utf8");
/** The `[[task]]` table of `id` in day_flow's pipeline.toml, or null. */
function taskBlock(id) {
  const blocks = read("pipeline.toml").split(/^\[\[task\]\]$/m).slice(1);
  return blocks.find((b) => new RegExp(`^id = "${id}"$`, "m").test(b)) ?? null;
}
const layout = () => JSON.parse(read("layout.json")).positions;

/** The viewport's zoom and, for every node label, its computed font size and whether its text is cut. */
const labels = (page) =>
  page.evaluate(() => {
    const zoom = Number(/scale\(([\d.]+)\)/.exec(document.querySelector(".react-flow__viewport").style.transform)[1]);
    const pane = document.querySelector('[data-testid="dag-canvas"]').getBoundingClientRect();
    const out = [...document.querySelectorAll('[data-testid^="node-label-"]')].map((el) => {
      const r = el.getBoundingClientRect();
      return {
        id: el.textContent,
        px: parseFloat(getComputedStyle(el).fontSize),
        cut: el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1,
        inView: r.left >= pane.left && r.right <= pane.right && r.top >= pane.top && r.bottom <= pane.bottom,
      };
    });
    return { zoom, lod: document.querySelector('[data-testid="dag-canvas"]').dataset.lod, labels: out };
  });

/** Asserts every label is at least 11 px on screen (font size × zoom) and shows its whole id. */
function legible(m, count) {
  eq(m.labels.length, count, "labels on the canvas");
  for (const l of m.labels) {
    assert(l.px * m.zoom >= 11, `${l.id}: ${l.px} px × ${m.zoom.toFixed(3)} = ${(l.px * m.zoom).toFixed(2)} px on screen`);
    assert(!l.cut, `${l.id}: label cut`);
  }
}

const viewport = (page) => page.locator(".react-flow__viewport").evaluate((v) => v.style.transform);
const edgeClass = (page, from, to) => page.getByTestId(`rf__edge-${from}->${to}`).getAttribute("class");
const dashes = (page, from, to) =>
  page.getByTestId(`rf__edge-${from}->${to}`).locator("path.react-flow__edge-path").evaluate((p) => getComputedStyle(p).strokeDasharray);

export async function run(ctx) {
  await ctx.withOwnPage((page) => day({ ...ctx, page, login: () => ctx.login(page) }));
}

async function day({ page, api, check, login, shots }) {
  const node = (id) => page.getByTestId(`node-${id}`);
  const openPipeline = async (name, first) => {
    await page.getByTestId(`pipeline-${name}`).click();
    const toggle = page.getByTestId("view-canvas");
    if (await toggle.count()) await toggle.click();
    await node(first).waitFor();
    await waitCanvasIdle(page);
  };

  await check("canvas-day: the 12-node energy graph at Fit is legible: every label ≥ 11 px on screen (font size × zoom), none cut", async () => {
    await login();
    await openPipeline(ENERGY, "demand_vs_forecast");
    for (const [w, h] of [
      [1440, 900],
      [1280, 720],
      [1920, 1080],
    ]) {
      // The fit a pipeline opens with (the app remembers the pipeline and the view across the reload).
      await page.setViewportSize({ width: w, height: h });
      await page.reload();
      await node("demand_vs_forecast").waitFor();
      const m = await labels(page);
      legible(m, 12);
      assert(m.labels.filter((l) => l.inView).length >= 6, `at ${w}×${h} only ${m.labels.filter((l) => l.inView).map((l) => l.id)} in view`);
      // What does not fit readably is said, with the way to see it all.
      if (!m.labels.every((l) => l.inView)) assert(/^\d+ of 12 tasks out of view · F shows all$/.test(await page.getByTestId("canvas-partial").textContent()), "the out-of-view note");
      await page.screenshot({ path: join(shots, `canvas-fit-energy-${w}.png`) });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await check("canvas-day: level of detail — compact nodes (label only) zoomed out, full nodes (kind, engine) zoomed in; F fits readably, again shows all", async () => {
    await page.getByTestId("canvas-fit").click();
    await page.waitForTimeout(300);
    const fitted = await viewport(page);
    let m = await labels(page);
    if (m.zoom < 0.88) {
      eq(m.lod, "compact", "LOD at a zoom below 0.88");
      const meta = await node("hourly_demand").locator(".dag-node-meta").evaluate((e) => getComputedStyle(e).display);
      eq(meta, "none", "meta row of a compact node");
    }
    // Zoom in with the + control until nodes are full.
    for (let i = 0; i < 8 && (await labels(page)).zoom < 0.95; i++) {
      await page.locator(".react-flow__controls-zoomin").click();
      await page.waitForTimeout(250);
    }
    m = await labels(page);
    eq(m.lod, "full", `LOD at zoom ${m.zoom}`);
    assert(m.labels.every((l) => l.px === 13), "full labels are 13 px");
    assert(await node("hourly_demand").locator(".dag-node-meta").isVisible(), "meta row of a full node");
    assert((await node("hourly_demand").textContent()).includes("sql · duckdb"), "kind and engine shown");
    // F: back to the readable fit; F again: the whole graph (when the readable fit did not show it all).
    await page.locator('[data-testid="dag-canvas"] .react-flow__pane').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("f");
    await until(async () => (await viewport(page)) === fitted, "f to fit readably again");
    m = await labels(page);
    if (!m.labels.every((l) => l.inView)) {
      await page.keyboard.press("f");
      await until(async () => (await labels(page)).labels.every((l) => l.inView), "the second f to show every node");
      await page.screenshot({ path: join(shots, "canvas-fit-energy-overview.png") });
      await page.keyboard.press("f");
      await until(async () => (await viewport(page)) === fitted, "a third f to fit readably");
    }
  });

  await check("canvas-day: 'reads from' edges are solid, 'runs after' edges dashed, and the legend says so", async () => {
    // accuracy_table writes region_accuracy (`input`) and runs after accuracy_checks (`inputs`).
    assert((await edgeClass(page, "region_accuracy", "accuracy_table")).includes("edge-data"), "input edge is data");
    assert((await edgeClass(page, "accuracy_checks", "accuracy_table")).includes("edge-order"), "inputs edge is order");
    assert((await edgeClass(page, "hourly_demand", "demand_vs_forecast")).includes("edge-data"), "SQL edge is data");
    eq(await dashes(page, "hourly_demand", "demand_vs_forecast"), "none", "SQL edge dashes");
    eq(await dashes(page, "region_accuracy", "accuracy_table"), "none", "input edge dashes");
    assert((await dashes(page, "accuracy_checks", "accuracy_table")) !== "none", "inputs edge is dashed");
    const legend = page.getByTestId("canvas-legend");
    assert(await legend.isVisible(), "legend visible");
    eq(await page.getByTestId("legend-data").textContent(), "reads from", "legend: data");
    eq(await page.getByTestId("legend-order").textContent(), "runs after", "legend: order");
    const dash = await page.locator('[data-testid="legend-order"] line').evaluate((l) => getComputedStyle(l).strokeDasharray);
    assert(dash !== "none", "legend's 'runs after' line is dashed");
  });

  await check("canvas-day: clicking a palette kind places the task beside the selected one, in a free spot, and selects it", async () => {
    await openPipeline(FLOW, "gold");
    await node("gold").click();
    await page.getByTestId("palette-sql").click();
    await page.getByTestId("new-task-ghost").waitFor();
    const id = page.getByTestId("new-task-id");
    eq(await id.inputValue(), "sql_1", "suggested id");
    await page.screenshot({ path: join(shots, "canvas-palette-click.png") });
    await id.press("Enter");
    await node("sql_1").waitFor();
    await waitCanvasIdle(page);
    await until(() => node("sql_1").evaluate((n) => n.classList.contains("is-selected")), "the new task selected");
    assert(/kind = "sql"/.test(taskBlock("sql_1") ?? ""), `pipeline.toml: ${taskBlock("sql_1")}`);
    const pos = await until(() => {
      try {
        return layout().sql_1;
      } catch {
        return null;
      }
    }, "layout.json with sql_1");
    const all = layout();
    assert(pos.x >= all.gold.x + NODE_W, `sql_1 at ${JSON.stringify(pos)} is not right of gold ${JSON.stringify(all.gold)}`);
    for (const [other, p] of Object.entries(all))
      if (other !== "sql_1") assert(Math.abs(p.x - pos.x) >= NODE_W || Math.abs(p.y - pos.y) >= NODE_H, `sql_1 overlaps ${other}`);
    // The palette is keyboard-reachable too: Enter on a kind opens the same form; Escape closes it,
    // and the view is back where it was if it moved to make room.
    const before = await viewport(page);
    await page.getByTestId("palette-shell").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("new-task-id").waitFor();
    await page.getByTestId("new-task-id").press("Escape");
    await page.getByTestId("new-task-form").waitFor({ state: "detached" });
    await until(async () => (await viewport(page)) === before, "the view restored after Escape");
  });

  await check("canvas-day: drawing gold → a fresh SQL task asks; Enter reads gold: `SELECT * FROM gold` written, a solid edge; undo and redo", async () => {
    await mouseDrag(page, page.getByTestId("handle-out-gold"), page.getByTestId("handle-in-sql_1"));
    const dialog = page.getByTestId("edge-choice");
    await dialog.waitFor();
    assert(await page.getByTestId("edge-choice-read").isChecked(), "read is the default for a fresh task");
    assert((await dialog.textContent()).includes("SELECT * FROM gold"), `dialog: ${await dialog.textContent()}`);
    await page.screenshot({ path: join(shots, "canvas-edge-choice.png") });
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached" });
    await page.getByTestId("rf__edge-gold->sql_1").waitFor();
    await waitCanvasIdle(page);
    eq(read("sql_1.sql").trim(), "SELECT * FROM gold", "sql_1.sql");
    assert(!/inputs =/.test(taskBlock("sql_1")), `no order-only inputs: ${taskBlock("sql_1")}`);
    assert((await edgeClass(page, "gold", "sql_1")).includes("edge-data"), "a data edge");
    eq(await dashes(page, "gold", "sql_1"), "none", "solid");
    const spec = await api(`/api/pipelines/${FLOW}`);
    eq(spec.tasks.find((t) => t.id === "sql_1").upstream, ["gold"], "the runner reads gold upstream of sql_1");
    await page.keyboard.press("Control+z");
    await page.getByTestId("rf__edge-gold->sql_1").waitFor({ state: "detached" });
    await waitCanvasIdle(page);
    eq(read("sql_1.sql").trim(), "SELECT 1 AS x", "undo wrote the template back");
    await page.keyboard.press("Control+Shift+z");
    await page.getByTestId("rf__edge-gold->sql_1").waitFor();
    await waitCanvasIdle(page);
    eq(read("sql_1.sql").trim(), "SELECT * FROM gold", "redo");
  });

  await check("canvas-day: onto a task with its own query, reading is explained and 'run after' is the default; Esc cancels, Enter writes inputs (dashed)", async () => {
    const before = read("pipeline.toml");
    await mouseDrag(page, page.getByTestId("handle-out-raw"), page.getByTestId("handle-in-sql_1"));
    const dialog = page.getByTestId("edge-choice");
    await dialog.waitFor();
    assert(await page.getByTestId("edge-choice-read").isDisabled(), "read disabled: sql_1 has its own query");
    assert(await page.getByTestId("edge-choice-after").isChecked(), "run after is the default");
    assert((await dialog.textContent()).includes("FROM or JOIN"), `dialog: ${await dialog.textContent()}`);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await page.waitForTimeout(300);
    eq(await page.getByTestId("rf__edge-raw->sql_1").count(), 0, "no edge after Esc");
    assert(read("pipeline.toml") === before, "Esc wrote nothing");
    await mouseDrag(page, page.getByTestId("handle-out-raw"), page.getByTestId("handle-in-sql_1"));
    await dialog.waitFor();
    await page.keyboard.press("Enter");
    await page.getByTestId("rf__edge-raw->sql_1").waitFor();
    await waitCanvasIdle(page);
    assert(/inputs = \["raw"\]/.test(taskBlock("sql_1")), `inputs: ${taskBlock("sql_1")}`);
    eq(read("sql_1.sql").trim(), "SELECT * FROM gold", "the query is unchanged");
    assert((await edgeClass(page, "raw", "sql_1")).includes("edge-order"), "an order edge");
    assert((await dashes(page, "raw", "sql_1")) !== "none", "dashed");
  });

  await check("canvas-day: removing a data edge names the line of SQL that reads the table; nothing changes", async () => {
    const before = read("pipeline.toml");
    await page.getByTestId("rf__edge-gold->report").click({ force: true });
    await page.keyboard.press("Delete");
    const msg = page.getByTestId("canvas-message");
    await msg.waitFor();
    const t = await msg.textContent();
    assert(t.includes("change line 4 of report.sql") && t.includes("4 | FROM gold AS g"), `message: ${t}`);
    await page.screenshot({ path: join(shots, "canvas-data-edge-remove.png") });
    assert(read("pipeline.toml") === before && read("report.sql") === REPORT_SQL, "files changed");
    await page.getByTestId("rf__edge-gold->report").waitFor();
    await page.getByTestId("canvas-message-close").click();
  });

  await check("canvas-day: a running task is animated (a sliding bar, a dot along the edge into it)", async () => {
    await api(`/api/pipelines/${FLOW}/runs`, { method: "POST", body: JSON.stringify({ params: {}, force: true }) });
    await page.waitForFunction(() => document.querySelector('[data-testid="node-slow"]')?.getAttribute("data-state") === "running", null, { timeout: 30_000 });
    const bar = page.getByTestId("node-running-slow");
    await bar.waitFor();
    const anim = await bar.evaluate((b) => getComputedStyle(b, "::after").animationName);
    eq(anim, "dag-run-slide", "the running bar's animation");
    assert((await edgeClass(page, "gold", "slow")).includes("edge-active"), "the edge into the running task is active");
    eq(await page.locator('[data-testid="rf__edge-gold->slow"] circle.dag-edge-flow animateMotion').count(), 1, "a dot moves along it");
    assert((await dashes(page, "gold", "slow")) !== "none", "it stays dashed (runs after)");
    await page.screenshot({ path: join(shots, "canvas-running.png") });
    await page.waitForFunction(() => document.querySelector('[data-testid="node-slow"]')?.getAttribute("data-state") === "success", null, { timeout: 60_000 });
    eq(await bar.count(), 0, "no bar once done");
  });

  await check("canvas-day: a task changed since its last successful run is marked on its node", async () => {
    eq(await page.getByTestId("node-changed-report").count(), 0, "report unchanged after its run");
    await api(`/api/pipelines/${FLOW}/tasks/report/sql`, { method: "PUT", body: JSON.stringify({ sql: REPORT_SQL.replace("AS total", "AS total,\n       count(*) AS n") }) });
    const mark = page.getByTestId("node-changed-report");
    await mark.waitFor({ timeout: 10_000 });
    eq(await mark.getAttribute("title"), "changed since the last successful run", "tooltip");
    eq(await page.getByTestId("node-changed-gold").count(), 0, "gold is not marked");
    await page.screenshot({ path: join(shots, "canvas-changed.png") });
  });

  await check("canvas-day: drawing gold → a fresh Python task adds gold to its function's parameters; the code compiles", async () => {
    await page.locator('[data-testid="dag-canvas"] .react-flow__pane').click({ position: { x: 5, y: 300 } });
    await page.getByTestId("palette-python").click();
    await page.getByTestId("new-task-input").selectOption("");
    await page.getByTestId("new-task-id").press("Enter");
    await node("python_1").waitFor();
    await waitCanvasIdle(page);
    assert(read("python_1.py").includes("def run(params: dict)"), "template reading nothing");
    await mouseDrag(page, page.getByTestId("handle-out-gold"), page.getByTestId("handle-in-python_1"));
    await page.getByTestId("edge-choice").waitFor();
    assert(await page.getByTestId("edge-choice-read").isChecked(), "read is the default");
    await page.keyboard.press("Enter");
    await page.getByTestId("rf__edge-gold->python_1").waitFor();
    await waitCanvasIdle(page);
    const code = read("python_1.py");
    assert(code.includes("def run(gold: pl.LazyFrame, params: dict)"), code);
    execFileSync("python3", ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", join(flowDir, "python_1.py")]);
    const t = (await api(`/api/pipelines/${FLOW}`)).tasks.find((x) => x.id === "python_1");
    eq(t.settings.reads, ["gold"], "the function reads gold");
    assert((await edgeClass(page, "gold", "python_1")).includes("edge-data"), "a data edge");
  });
}
