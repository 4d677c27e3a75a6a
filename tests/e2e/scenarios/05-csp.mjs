// The UI's Content-Security-Policy, sent by the runner with every UI file (so it holds in a
// browser and in the desktop app, whose window loads the runner's own http origin, where Tauri
// injects no CSP): an injected inline script and an inline event handler are refused, and
// the UI itself works under it (main.mjs also fails the suite on any violation in the other
// scenarios: Monaco, its worker, the grid, elk's worker).
import { assert } from "../lib/ui.mjs";

export async function run(ctx) {
  await ctx.check("the UI comes with a strict Content-Security-Policy", async () => {
    for (const path of ["/", "/some/client/route"]) {
      const r = await fetch(ctx.base + path);
      const csp = r.headers.get("content-security-policy") || "";
      assert(r.ok && /(^|; )script-src 'self'(;|$)/.test(csp), `${path}: ${r.status} ${csp}`);
      assert(!csp.includes("unsafe-eval") && /object-src 'none'/.test(csp) && /frame-ancestors 'none'/.test(csp), csp);
    }
  });

  await ctx.check("an injected inline script and an inline event handler are blocked", async () => {
    await ctx.withOwnPage(async (page) => {
      const before = ctx.cspViolations.length;
      await page.goto(ctx.base);
      await page.getByTestId("login-token").waitFor();
      // (eval is not tried here: code that DevTools evaluates may eval under any policy; the
      // header check above asserts there is no 'unsafe-eval'.)
      const got = await page.evaluate(async () => {
        const seen = [];
        document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
        const s = document.createElement("script");
        s.textContent = "window.__injected = 'script'";
        document.body.appendChild(s);
        const div = document.createElement("div");
        div.innerHTML = `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onload="window.__handler = 1" onerror="window.__handler = 1">`;
        document.body.appendChild(div);
        await new Promise((r) => setTimeout(r, 300));
        return { injected: window.__injected ?? null, handler: window.__handler ?? null, seen };
      });
      // These violations are this check's own doing: take them out of the suite-wide list.
      const mine = ctx.cspViolations.splice(before);
      assert(got.injected === null && got.handler === null, JSON.stringify(got));
      assert(got.seen.includes("script-src-elem") && got.seen.includes("script-src-attr"), `violations reported: ${JSON.stringify(got.seen)}`);
      // The suite's monitor (main.mjs) saw them too, so its final check means something.
      assert(mine.length >= 1, "main.mjs's CSP monitor saw no violation");
    });
  });
}
