// App-wide keyboard shortcuts: the help overlay, quick open, view switching, theme, run.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const NAME = "keys_demo";

export function setup({ root, ws }) {
  // energy's sources read generated data; only the structure matters here (no run needed).
  cpSync(join(root, "examples", "energy"), join(ws, NAME), { recursive: true, filter: (p) => !/\/(data|out)(\/|$)/.test(p.slice(root.length)) });
  const spec = join(ws, NAME, "pipeline.toml");
  writeFileSync(spec, readFileSync(spec, "utf8").replace(/^name = ".*"$/m, `name = "${NAME}"`));
}

export async function run({ check, shots, withOwnPage, login }) {
  await withOwnPage(async (page) => {
    await check("shortcuts: Shift+? lists them, Escape closes", async () => {
      await login(page);
      await page.locator("body").click({ position: { x: 5, y: 5 } });
      await page.keyboard.press("Shift+?");
      const help = page.getByTestId("shortcuts-help");
      await help.waitFor();
      const text = await help.textContent();
      for (const want of ["Ctrl+Enter", "Run the pipeline", "Ctrl+P", "Shift+Enter", "Preview the cell"]) {
        if (!text.includes(want)) throw new Error(`help lacks "${want}": ${text}`);
      }
      await page.screenshot({ path: join(shots, "shortcuts-help.png") });
      await page.keyboard.press("Escape");
      await help.waitFor({ state: "detached" });
    });

    await check("shortcuts: Ctrl+P opens a pipeline by a part of its name", async () => {
      await page.keyboard.press("Control+p");
      await page.getByTestId("quick-open-input").fill("keys");
      await page.keyboard.press("Enter");
      await page.waitForFunction((n) => document.querySelector(".toolbar .title")?.textContent === n, NAME);
    });

    await check("shortcuts: Ctrl+2 and Ctrl+1 switch notebook and canvas", async () => {
      await page.keyboard.press("Control+2");
      await page.getByTestId("notebook").waitFor();
      await page.keyboard.press("Control+1");
      await page.getByTestId("notebook").waitFor({ state: "detached" });
    });

    await check("shortcuts: Ctrl+Shift+L cycles the theme", async () => {
      await page.keyboard.press("Control+Shift+L");
      const label = await page.getByTestId("theme-toggle").textContent();
      await page.keyboard.press("Control+Shift+L");
      await page.waitForFunction((l) => document.querySelector('[data-testid="theme-toggle"]')?.textContent !== l, label);
      // system → light → dark → system: three presses come back to the first label.
      await page.keyboard.press("Control+Shift+L");
      await page.keyboard.press("Control+Shift+L");
      const again = await page.getByTestId("theme-toggle").textContent();
      if (again !== label) throw new Error(`after three presses the theme reads "${again}", expected "${label}"`);

    });
  }, 20_000);
}
