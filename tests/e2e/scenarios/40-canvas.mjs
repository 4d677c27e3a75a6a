// Authoring on the DAG canvas, on a copy of examples/medallion named canvas_demo: add a SQL task from
// the palette, connect it, rename/undo/redo, delete/undo, move a node and find it there after a
// reload (layout.json), and see the engine refuse a cycle. Files on disk are checked after each
// step, comments included.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assert, center, mouseDrag, until, waitCanvasIdle as waitIdle } from "../lib/ui.mjs";

const NAME = "canvas_demo";
// Comments this scenario adds to pipeline.toml; every edit must keep them (and the example's own).
const MARKERS = ["# canvas-e2e: top comment", "# canvas-e2e: before silver", "# canvas-e2e: trailing"];

let dir;
let originalComments;

export function setup({ root, ws }) {
  dir = join(ws, NAME);
  cpSync(join(root, "examples", "medallion"), dir, {
    recursive: true,
    filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)),
  });
  let toml = readFileSync(join(dir, "pipeline.toml"), "utf8");
  toml = toml.replace(/^name = "medallion"/m, `name = "${NAME}"`);
  toml = `${MARKERS[0]}\n${toml}`;
  toml = toml.replace(/\[\[task\]\]\nid = "silver"/, `${MARKERS[1]}\n[[task]]\nid = "silver"`);
  toml = `${toml.trimEnd()}\n${MARKERS[2]}\n`;
  writeFileSync(join(dir, "pipeline.toml"), toml);
  originalComments = toml.split("\n").filter((l) => l.includes("#")).map((l) => l.slice(l.indexOf("#")));

  // A tiny pipeline that runs in a second, for row counts and durations on the nodes.
  const run = join(ws, "canvas_run");
  mkdirSync(join(run, "data"), { recursive: true });
  writeFileSync(join(run, "data", "people.csv"), "name,age\nana,34\nbo,12\ncy,51\n");
  writeFileSync(
    join(run, "pipeline.toml"),
    `[pipeline]\nname = "canvas_run"\n\n[[task]]\nid = "people"\nkind = "source"\nformat = "csv"\npath = "data/people.csv"\n\n` +
      `[[task]]\nid = "adults"\nkind = "sql"\nsql = "SELECT * FROM people WHERE age >= 18"\n`,
  );
}

const toml = () => readFileSync(join(dir, "pipeline.toml"), "utf8");
/** The `[[task]]` table of `id` in pipeline.toml, or null. */
function taskBlock(id) {
  const blocks = toml().split(/^\[\[task\]\]$/m).slice(1);
  return blocks.find((b) => new RegExp(`^id = "${id}"$`, "m").test(b)) ?? null;
}
function commentsKept() {
  const text = toml();
  for (const c of originalComments) assert(text.includes(c), `comment lost: ${c}`);
}
/** A node's position on the canvas (flow coordinates, from its transform). */
async function flowPos(page, id) {
  const t = await page.locator(`.react-flow__node[data-id="${id}"]`).evaluate((n) => n.style.transform);
  const m = /translate\(([-\d.]+)px,\s*([-\d.]+)px\)/.exec(t);
  assert(m, `no transform on ${id}: ${t}`);
  return { x: Number(m[1]), y: Number(m[2]) };
}
const edge = (page, from, to) => page.getByTestId(`rf__edge-${from}->${to}`);

export async function run(ctx) {
  await ctx.withOwnPage((page) => scenario({ ...ctx, page, login: () => ctx.login(page) }));
}

/** The canvas view (the app remembers the notebook view across reloads). */
async function showCanvas(page) {
  const toggle = page.getByTestId("view-canvas");
  if (await toggle.count()) await toggle.click();
}

async function scenario({ page, api, check, login, shots }) {
  const node = (id) => page.getByTestId(`node-${id}`);

  await check("canvas: open the copied medallion pipeline", async () => {
    await login();
    await page.getByTestId(`pipeline-${NAME}`).click();
    await showCanvas(page);
    await node("gold").waitFor();
    await page.getByTestId("palette-sql").waitFor();
  });

  await check("canvas: drag a SQL task from the palette, name it, and it is in pipeline.toml with its .sql file", async () => {
    const pane = page.locator('[data-testid="dag-canvas"] .react-flow__pane');
    const box = await pane.boundingBox();
    // Below the graph, right of the palette: an empty spot.
    await page.getByTestId("palette-sql").dragTo(pane, { targetPosition: { x: box.width * 0.55, y: box.height - 60 } });
    const id = page.getByTestId("new-task-id");
    await id.waitFor();
    assert((await id.inputValue()) === "sql_1", `suggested id ${await id.inputValue()}`);
    await id.fill("sql_new");
    await id.press("Enter");
    await node("sql_new").waitFor();
    await waitIdle(page);
    const block = taskBlock("sql_new");
    assert(block && /kind = "sql"/.test(block) && /file = "sql_new.sql"/.test(block), `pipeline.toml: ${block}`);
    assert(readFileSync(join(dir, "sql_new.sql"), "utf8").includes("SELECT 1 AS x"), "sql_new.sql content");
    commentsKept();
    // The drop position is saved at once.
    await until(() => existsSync(join(dir, "layout.json")) && JSON.parse(readFileSync(join(dir, "layout.json"), "utf8")).positions?.sql_new, "layout.json with sql_new");
  });

  await check("canvas: connect gold → sql_new by dragging between handles; choosing 'run after' writes inputs, comments kept", async () => {
    await mouseDrag(page, page.getByTestId("handle-out-gold"), page.getByTestId("handle-in-sql_new"));
    // Onto a SQL task the canvas asks: read gold in it (45-canvas-day) or only run after it.
    await page.getByTestId("edge-choice").waitFor();
    await page.getByTestId("edge-choice-after").check();
    await page.getByTestId("edge-choice-ok").click();
    await edge(page, "gold", "sql_new").waitFor();
    await waitIdle(page);
    assert(/inputs = \["gold"\]/.test(taskBlock("sql_new") ?? ""), `inputs not written: ${taskBlock("sql_new")}`);
    commentsKept();
    await page.screenshot({ path: join(shots, "canvas-connected.png") });
  });

  await check("canvas: rename with F2, undo (Ctrl+Z) and redo (Ctrl+Shift+Z) rewrite the file each time", async () => {
    await node("sql_new").click();
    await page.keyboard.press("F2");
    const input = page.getByTestId("rename-input");
    await input.fill("sql_renamed");
    await input.press("Enter");
    await node("sql_renamed").waitFor();
    await waitIdle(page);
    assert(taskBlock("sql_renamed") && !taskBlock("sql_new"), "renamed in pipeline.toml");
    await page.keyboard.press("Control+z");
    await node("sql_new").waitFor();
    await waitIdle(page);
    assert(taskBlock("sql_new") && !taskBlock("sql_renamed"), "undo restored the id in pipeline.toml");
    await page.keyboard.press("Control+Shift+z");
    await node("sql_renamed").waitFor();
    await waitIdle(page);
    assert(taskBlock("sql_renamed") && /inputs = \["gold"\]/.test(taskBlock("sql_renamed")), "redo renamed again, inputs kept");
    commentsKept();
  });

  await check("canvas: double-click renames too; Escape cancels", async () => {
    await page.getByTestId("node-label-sql_renamed").dblclick();
    await page.getByTestId("rename-input").fill("nope");
    await page.getByTestId("rename-input").press("Escape");
    await page.getByTestId("rename-input").waitFor({ state: "detached" });
    assert(taskBlock("sql_renamed") && !taskBlock("nope"), "Escape must not rename");
  });

  await check("canvas: delete a task with the Delete key, undo brings it back with its input and position", async () => {
    const before = await flowPos(page, "sql_renamed");
    await node("sql_renamed").click();
    await page.keyboard.press("Delete");
    await node("sql_renamed").waitFor({ state: "detached" });
    await waitIdle(page);
    assert(!taskBlock("sql_renamed"), "still in pipeline.toml after delete");
    await page.getByTestId("canvas-undo").click();
    await node("sql_renamed").waitFor();
    await edge(page, "gold", "sql_renamed").waitFor();
    await waitIdle(page);
    const block = taskBlock("sql_renamed");
    assert(block && /inputs = \["gold"\]/.test(block) && /file = "sql_new.sql"/.test(block), `restored: ${block}`);
    const after = await flowPos(page, "sql_renamed");
    assert(Math.abs(after.x - before.x) < 1 && Math.abs(after.y - before.y) < 1, `position ${JSON.stringify(after)} vs ${JSON.stringify(before)}`);
    commentsKept();
  });

  await check("canvas: delete a sink from the context menu; undo writes it back whole; Ctrl+Y redoes the delete", async () => {
    const original = taskBlock("gold_table");
    await node("gold_table").click({ button: "right" });
    await page.getByTestId("ctx-delete").click();
    await node("gold_table").waitFor({ state: "detached" });
    await waitIdle(page);
    assert(!taskBlock("gold_table"), "gold_table still in pipeline.toml");
    await page.keyboard.press("Control+z");
    await node("gold_table").waitFor();
    await waitIdle(page);
    const restored = taskBlock("gold_table");
    for (const line of ['kind = "sink"', 'input = "gold"', 'inputs = ["gold_checks"]', 'format = "duckdb"', 'database = "out/warehouse.duckdb"', 'table = "gold_rfm"'])
      assert(restored?.includes(line), `restored gold_table lacks ${line}: ${restored}`);
    assert(original.includes('mode = "replace"'), "fixture changed");
    await edge(page, "gold_checks", "gold_table").waitFor();
    await page.keyboard.press("Control+y");
    await node("gold_table").waitFor({ state: "detached" });
    await waitIdle(page);
    assert(!taskBlock("gold_table"), "redo did not delete again");
    await page.keyboard.press("Control+z");
    await node("gold_table").waitFor();
    await waitIdle(page);
    commentsKept();
  });

  await check("canvas: a selected `inputs` edge is removed with Delete, and undo puts it back", async () => {
    await edge(page, "gold", "sql_renamed").click({ force: true });
    await page.keyboard.press("Delete");
    await edge(page, "gold", "sql_renamed").waitFor({ state: "detached" });
    await waitIdle(page);
    assert(!/inputs =/.test(taskBlock("sql_renamed")), `inputs still written: ${taskBlock("sql_renamed")}`);
    await page.keyboard.press("Control+z");
    await edge(page, "gold", "sql_renamed").waitFor();
    await waitIdle(page);
    assert(/inputs = \["gold"\]/.test(taskBlock("sql_renamed")), "undo restored the input");
  });

  await check("canvas: renaming a task another task's SQL reads shows the engine's error", async () => {
    const text = toml();
    await node("silver").dblclick();
    await page.getByTestId("rename-input").fill("silver_x");
    await page.getByTestId("rename-input").press("Enter");
    await page.waitForFunction(() => document.querySelector('[data-testid="canvas-message"]')?.getAttribute("data-kind") === "error");
    const t = await page.getByTestId("canvas-message").textContent();
    assert(t.includes("reads table 'silver'"), `message: ${t}`);
    assert(toml() === text, "pipeline.toml changed");
    await node("silver").waitFor();
    await page.getByTestId("canvas-message-close").click();
  });

  await check("canvas: an edge from SQL cannot be removed on the canvas; the message names the line of SQL to edit", async () => {
    const text = toml();
    await edge(page, "silver", "gold").click({ force: true });
    await page.keyboard.press("Delete");
    const msg = page.getByTestId("canvas-message");
    await msg.waitFor();
    const t = await msg.textContent();
    assert(t.includes("reads the table silver in its SQL") && t.includes("change line 11 of gold.sql") && t.includes("11 | FROM silver"), `message: ${t}`);
    assert(toml() === text, "pipeline.toml changed");
    await page.getByTestId("canvas-message-close").click();
  });

  await check("canvas: a cycle is refused with the engine's message and files unchanged", async () => {
    const text = toml();
    await mouseDrag(page, page.getByTestId("handle-out-sql_renamed"), page.getByTestId("handle-in-bronze"));
    const msg = page.getByTestId("canvas-message");
    await page.waitForFunction(() => document.querySelector('[data-testid="canvas-message"]')?.getAttribute("data-kind") === "error");
    const t = await msg.textContent();
    assert(/cycle/i.test(t) && t.includes("bronze"), `message: ${t}`);
    assert(toml() === text, "pipeline.toml changed by a rejected edit");
    await page.screenshot({ path: join(shots, "canvas-cycle-error.png") });
    await page.getByTestId("canvas-message-close").click();
  });

  await check("canvas: a moved node keeps its place after a reload (layout.json)", async () => {
    const before = await flowPos(page, "silver_table");
    const b = await center(node("silver_table"));
    await page.mouse.move(b.x, b.y);
    await page.mouse.down();
    await page.mouse.move(b.x + 40, b.y + 60, { steps: 6 });
    await page.mouse.move(b.x + 80, b.y + 120, { steps: 6 });
    await page.mouse.up();
    const moved = await flowPos(page, "silver_table");
    assert(Math.abs(moved.y - before.y) > 20, `node did not move: ${JSON.stringify(moved)}`);
    const saved = await until(() => {
      const p = JSON.parse(readFileSync(join(dir, "layout.json"), "utf8")).positions?.silver_table;
      return p && Math.abs(p.x - moved.x) < 1 && Math.abs(p.y - moved.y) < 1 && p;
    }, "layout.json with the moved node");
    const layout = await api(`/api/pipelines/${NAME}/layout`);
    assert(Math.abs(layout.positions.silver_table.y - saved.y) < 1, "layout route answers the saved position");
    await page.reload();
    await node("silver_table").waitFor();
    const reloaded = await flowPos(page, "silver_table");
    assert(Math.abs(reloaded.x - moved.x) < 1 && Math.abs(reloaded.y - moved.y) < 1, `after reload ${JSON.stringify(reloaded)} vs ${JSON.stringify(moved)}`);
    // `f` fits the view again, also right after a load when nothing has the focus.
    const viewport = () => page.locator(".react-flow__viewport").evaluate((v) => v.style.transform);
    const fitted = await viewport();
    const c = await center(page.locator('[data-testid="dag-canvas"] .react-flow__pane'));
    await page.mouse.move(c.x, c.y);
    await page.mouse.wheel(0, -400);
    await until(async () => (await viewport()) !== fitted, "the wheel to zoom");
    await page.keyboard.press("f");
    await until(async () => (await viewport()) === fitted, "f to fit the view again");
    await page.screenshot({ path: join(shots, "canvas-authoring.png") });
  });

  await check("canvas: undo puts a moved node back; auto layout is one undoable step", async () => {
    const moved = await flowPos(page, "silver_table");
    const saved = JSON.parse(readFileSync(join(dir, "layout.json"), "utf8")).positions;
    // The history is per page: move it again, then undo that move.
    const b = await center(node("silver_table"));
    await page.mouse.move(b.x, b.y);
    await page.mouse.down();
    await page.mouse.move(b.x + 100, b.y + 30, { steps: 6 });
    await page.mouse.up();
    const again = await flowPos(page, "silver_table");
    assert(again.x - moved.x > 20, "second move");
    await page.keyboard.press("Control+z");
    await until(async () => {
      const p = await flowPos(page, "silver_table");
      return Math.abs(p.x - moved.x) < 1 && Math.abs(p.y - moved.y) < 1;
    }, "the node back at its place");
    await until(() => Math.abs(JSON.parse(readFileSync(join(dir, "layout.json"), "utf8")).positions.silver_table.x - saved.silver_table.x) < 1, "layout.json back");
    await page.getByTestId("canvas-auto-layout").click();
    await until(async () => Math.abs((await flowPos(page, "silver_table")).y - moved.y) > 1, "auto layout to move the node");
    await page.getByTestId("canvas-undo").click();
    await until(async () => Math.abs((await flowPos(page, "silver_table")).y - moved.y) < 1, "undo of the auto layout");
  });

  await check("canvas: dark theme screenshot", async () => {
    const toggle = page.getByTestId("theme-toggle");
    for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== "dark"; i++) await toggle.click();
    await node("sql_renamed").click();
    await page.screenshot({ path: join(shots, "canvas-authoring-dark.png") });
    for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== "light"; i++) await toggle.click();
  });

  await check("canvas: after a run, nodes show the run's state, row count and duration", async () => {
    await page.getByTestId("pipeline-canvas_run").click();
    await node("adults").waitFor();
    await api("/api/pipelines/canvas_run/runs", { method: "POST", body: JSON.stringify({ params: {}, force: true }) });
    await page.waitForFunction(() => document.querySelector('[data-testid="node-adults"]')?.getAttribute("data-state") === "success", null, { timeout: 60_000 });
    await page.waitForFunction(() => /2 rows · \d+(\.\d)? m?s/.test(document.querySelector('[data-testid="node-adults"]')?.textContent ?? ""));
    const people = await node("people").textContent();
    assert(people.includes("3 rows"), `people node: ${people}`);
    await page.screenshot({ path: join(shots, "canvas-run-stats.png") });
  });

  await check("canvas: a query that would fail is marked on its node and its notebook cell before any run, and each SQL node shows its engine", async () => {
    // Polars has no date_trunc: the plan check (the query run over its inputs' empty schemas) says so.
    await api("/api/pipelines/canvas_run/tasks", {
      method: "POST",
      body: JSON.stringify({ id: "monthly", kind: "sql", settings: { engine: "polars", sql: "SELECT date_trunc('month', age) AS m FROM people" } }),
    });
    const mark = page.getByTestId("node-problem-monthly");
    await mark.waitFor({ timeout: 30_000 });
    const title = await mark.getAttribute("title");
    assert(title.includes("unsupported function 'date_trunc'") && title.includes('engine = "duckdb"'), `problem: ${title}`);
    assert((await page.getByTestId("node-problem-adults").count()) === 0, "adults is marked");
    assert((await node("adults").textContent()).includes("sql · duckdb"), `adults: ${await node("adults").textContent()}`);
    assert((await node("monthly").textContent()).includes("sql · polars"), `monthly: ${await node("monthly").textContent()}`);
    await page.screenshot({ path: join(shots, "canvas-plan-problem.png") });
    // The notebook says it on the cell, under the query.
    await page.getByTestId("view-notebook").click();
    const box = page.getByTestId("cell-plan-problem-monthly");
    await box.waitFor({ timeout: 30_000 });
    assert((await box.textContent()).includes("unsupported function 'date_trunc'"), `cell: ${await box.textContent()}`);
    assert((await page.getByTestId("cell-plan-problem-adults").count()) === 0, "adults cell is marked");
    await page.screenshot({ path: join(shots, "notebook-plan-problem.png") });
    await page.getByTestId("view-canvas").click();
    await api("/api/pipelines/canvas_run/tasks/monthly", { method: "DELETE" });
    await node("monthly").waitFor({ state: "detached" });
  });

  await check("canvas: an empty pipeline says what to do, and a dropped source becomes its first task", async () => {
    await api("/api/pipelines", { method: "POST", body: JSON.stringify({ name: "canvas_empty" }) });
    await page.reload();
    await page.getByTestId("pipeline-canvas_empty").click();
    const empty = page.getByTestId("canvas-empty");
    await empty.waitFor();
    assert((await empty.textContent()).includes("Drag a source from the palette to start"), "empty-state text");
    await page.screenshot({ path: join(shots, "canvas-empty.png") });
    const pane = page.locator('[data-testid="dag-canvas"] .react-flow__pane');
    await page.getByTestId("palette-source").dragTo(pane, { targetPosition: { x: 400, y: 200 } });
    await page.getByTestId("new-task-id").press("Enter");
    await node("source_1").waitFor();
    const spec = await api("/api/pipelines/canvas_empty");
    assert(spec.tasks.length === 1 && spec.tasks[0].kind === "source", JSON.stringify(spec.tasks));
  });
}
