// Live workspace: files changed on disk (an editor, a git pull) show up in the open UI within
// a second; broken files show their error on the pipeline; unsaved cell edits are never
// overwritten (the change is shown as a conflict).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { editorText, typeLines, until } from "../lib/ui.mjs";

const NAME = "live_demo";
const SPEC = `# Live workspace e2e: edited on disk while the UI is open.
[pipeline]
name = "${NAME}"

[[task]]
id = "numbers"
kind = "sql"
engine = "duckdb"
file = "numbers.sql"
`;

let dir;

export function setup({ ws }) {
  dir = join(ws, NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pipeline.toml"), SPEC);
  writeFileSync(join(dir, "numbers.sql"), "SELECT range AS n FROM range(3)\n");
}

export async function run({ check, shots, withOwnPage, login }) {
  await withOwnPage(async (page) => {
    await check("live: a task added to pipeline.toml on disk appears on the open canvas", async () => {
      await login(page);
      await page.getByTestId(`pipeline-${NAME}`).click();
      await page.getByTestId("view-canvas").click();
      await page.getByTestId("node-numbers").waitFor();
      const t0 = Date.now();
      writeFileSync(join(dir, "pipeline.toml"), SPEC + `\n[[task]]\nid = "doubled"\nkind = "sql"\nsql = "SELECT n * 2 AS d FROM numbers"\n`);
      await page.getByTestId("node-doubled").waitFor({ timeout: 5000 });
      const ms = Date.now() - t0;
      if (ms > 2000) throw new Error(`the new task showed after ${ms} ms`);
      if ((await page.locator(".react-flow__edge").count()) !== 1) throw new Error("the new edge is missing");
    });

    await check("live: broken files show their error on the pipeline, and fixing them clears it", async () => {
      const good = readFileSync(join(dir, "pipeline.toml"), "utf8");
      writeFileSync(join(dir, "pipeline.toml"), good.replace('kind = "sql"\nsql', 'kind = "sqll"\nsql'));
      const err = page.getByTestId("pipeline-error");
      await err.waitFor({ timeout: 5000 });
      const text = await err.textContent();
      if (!text.includes("pipeline.toml") || !text.includes("sqll")) throw new Error(text);
      await page.screenshot({ path: join(shots, "live-broken.png") });
      writeFileSync(join(dir, "pipeline.toml"), good);
      await err.waitFor({ state: "detached", timeout: 5000 });
      await page.getByTestId("node-doubled").waitFor();
    });

    await check("live: an unsaved cell is kept when its file changes, and the change is offered", async () => {
      await page.getByTestId("view-notebook").click();
      const editor = page.locator('[data-testid="cell-editor-numbers"] .view-lines');
      await editor.click();
      await page.keyboard.press("Control+End");
      await typeLines(page, ["", "-- my unsaved note"]);
      await page.getByTestId("cell-dirty-numbers").waitFor();
      writeFileSync(join(dir, "numbers.sql"), "SELECT range AS n FROM range(5)\n");
      await page.getByTestId("cell-conflict-numbers").waitFor({ timeout: 5000 });
      const mine = await editorText(page, "numbers");
      if (!mine.includes("my unsaved note")) throw new Error(`unsaved text lost: ${mine}`);
      await page.screenshot({ path: join(shots, "live-conflict.png") });
      await page.getByTestId("cell-conflict-take-numbers").click();
      await until(async () => (await editorText(page, "numbers")).includes("range(5)"), "the file's version in the editor");
      if ((await editorText(page, "numbers")).includes("my unsaved note")) throw new Error("the file's version was not taken");
      await page.getByTestId("cell-dirty-numbers").waitFor({ state: "detached" });
      // Clicking the button left the editor; that must not have saved the unsaved text over the file.
      const onDisk = readFileSync(join(dir, "numbers.sql"), "utf8");
      if (onDisk !== "SELECT range AS n FROM range(5)\n") throw new Error(`the file was overwritten: ${onDisk}`);
    });
  }, 20_000);
}
