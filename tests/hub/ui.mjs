// Headless-Chromium test of the hub's web UI over the DevTools protocol (no npm packages:
// Node's built-in WebSocket and fetch). Logs in with a password, checks the model list,
// the model page (signature badge, signer identity, verify command), the org page, the
// query page (signatures by identity pattern), and
// creates an API token through the form; saves a screenshot of the model page.
//   usage: node --experimental-websocket ui.mjs HUB_URL CHROMIUM USER PASSWORD REPO SCREENSHOT.png
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [hub, chromium, user, password, repo, shot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "hub-ui-"));
const browser = spawn(chromium, [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
  `--user-data-dir=${profile}`, "--window-size=1280,900", "about:blank",
], { stdio: "ignore" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (what, cond, detail = "") => {
  console.log(`${cond ? "PASS" : "FAIL"} ui: ${what}${cond ? "" : " " + detail}`);
  if (!cond) failures++;
};

async function main() {
  let port;
  for (let i = 0; i < 200 && !port; i++) {
    const f = join(profile, "DevToolsActivePort");
    if (existsSync(f)) port = readFileSync(f, "utf8").split("\n")[0];
    else await sleep(100);
  }
  if (!port) throw new Error("chromium did not start");
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t) => t.type === "page");
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
  let id = 0;
  const pending = new Map();
  const waiters = [];
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
    else if (msg.method) waiters.filter((w) => w.method === msg.method).forEach((w) => w.resolve(msg));
  };
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const n = ++id;
    pending.set(n, (msg) => (msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result)));
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  const once = (method) => new Promise((resolve) => waiters.push({ method, resolve }));
  const evaluate = async (expr) => (await send("Runtime.evaluate", { expression: expr, returnByValue: true })).result.value;
  const load = async (action) => { const done = once("Page.loadEventFired"); await action(); await done; };
  await send("Page.enable");
  await send("Runtime.enable");

  await load(() => send("Page.navigate", { url: `${hub}/login` }));
  check("login page renders", await evaluate(`!!document.querySelector("#login")`));
  await load(() => evaluate(`document.querySelector("input[name=username]").value = ${JSON.stringify(user)};
      document.querySelector("input[name=password]").value = ${JSON.stringify(password)};
      document.querySelector("#login").click(); true`));
  check("logged in (header shows the user)", (await evaluate(`document.querySelector("header").innerText`)).includes(user));
  check("model list shows the repo", (await evaluate(`document.querySelector("#models").innerText`)).includes(repo));

  await load(() => send("Page.navigate", { url: `${hub}/${repo}` }));
  const status = await evaluate(`document.querySelector("#sig-status")?.innerText`);
  check("signature badge says verified", status === "verified", status);
  const ident = await evaluate(`document.querySelector("#sig-identity")?.innerText`);
  check("badge names the signer identity", (ident || "").endsWith("/" + user), ident);
  const cmd = await evaluate(`document.querySelector("#verify-cmd")?.innerText`);
  check("copyable verify command", (cmd || "").includes("model_signing verify sigstore") && !!(await evaluate(`!!document.querySelector("[data-copy=verify-cmd]")`)), cmd);
  check("files table lists model.sig", (await evaluate(`document.querySelector("#files").innerText`)).includes("model.sig"));
  check("revision history present", (await evaluate(`document.querySelectorAll("#revisions tr").length`)) >= 2);
  const png = await send("Page.captureScreenshot", { format: "png" });
  writeFileSync(shot, Buffer.from(png.data, "base64"));
  check("screenshot of the model page", Buffer.from(png.data, "base64").length > 10000);

  await load(() => evaluate(`document.querySelector("#recheck").click(); true`));
  check("re-check button (CSRF form) works", (await evaluate(`document.querySelector("#sig-status")?.innerText`)) === "verified");

  const org = repo.split("/")[0];
  await load(() => send("Page.navigate", { url: `${hub}/${org}` }));
  check("org page lists members and models", (await evaluate(`document.querySelector("#members").innerText`)).includes(user)
    && (await evaluate(`document.querySelector("#models").innerText`)).includes(repo));

  await load(() => evaluate(`document.querySelector("header a[href='/query']").click(); true`));
  await load(() => evaluate(`document.querySelector("#query-signatures input[name=identity]").value = ${JSON.stringify(".*/" + user)};
      document.querySelector("#query-signatures input[name=regex]").checked = true;
      document.querySelector("#query-signatures button").click(); true`));
  const found = await evaluate(`document.querySelector("#query-results")?.innerText || ""`);
  check("query page (from the nav) finds the user's signatures", found.includes(repo) && found.includes("verified"), found);

  await load(() => send("Page.navigate", { url: `${hub}/settings/tokens` }));
  await load(() => evaluate(`document.querySelector("input[name=label]").value = "from-chromium";
      document.querySelector("#create-token").click(); true`));
  const token = await evaluate(`document.querySelector("#new-token")?.innerText`);
  check("token page creates a token (shown once)", (token || "").startsWith("hm_"), token);
  check("token listed", (await evaluate(`document.querySelector("#tokens").innerText`)).includes("from-chromium"));
  ws.close();
}

main()
  .catch((e) => { console.log("FAIL ui: " + e.message); failures++; })
  .finally(() => { browser.kill("SIGKILL"); process.exit(failures ? 1 : 0); });
