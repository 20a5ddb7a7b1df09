// A page whose chat server process is killed and started again misses
// nothing: two chat servers share a room through Redis (Streams keep its
// history); a page on server A sees a line, A is killed, five lines are
// said through server B meanwhile, A is started again, and the page —
// reconnecting by itself with the last position it saw — shows the five,
// each once and in order, then what is said next.
// Usage: node chat_reconnect.js CHAT_BINARY ADDR_A ADDR_B REDIS_URL
"use strict";
const { spawn } = require("child_process");
const { launch, waitForText } = require("./helpers");

const [binary, addrA, addrB, redis] = process.argv.slice(2);
const start = (addr) => spawn(binary, [addr, "--redis", redis], { stdio: "ignore" });
const line = (page, pattern, what) => waitForText(page, "#log", pattern, what);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  let serverA = start(addrA);
  const browser = await launch();
  try {
    await sleep(1000);
    const page = await browser.newPage();
    for (let i = 0; ; i++) {
      try { await page.goto(`http://${addrA}/`); break; } catch (e) { if (i > 20) throw e; await sleep(250); }
    }
    await page.waitForSelector("#status:text('connected')");
    const speaker = await browser.newPage();
    await speaker.goto(`http://${addrB}/`);
    await speaker.waitForSelector("#status:text('connected')");
    const say = async (text) => { await speaker.fill("#text", text); await speaker.press("#text", "Enter"); };
    await say("before the restart");
    await line(page, /: before the restart/, "the page hears the room");

    serverA.kill("SIGKILL");
    await page.waitForSelector("#status:text('reconnecting')");
    for (let i = 1; i <= 5; i++) await say(`missed ${i}`);
    await line(speaker, /: missed 5/, "the five were said while the page's server was down");
    serverA = start(addrA);
    await line(page, /: missed 5/, "the page reconnected by itself and recovered");
    await say("after the restart");
    await line(page, /: after the restart/, "then live lines");

    const text = await page.locator("#log").innerText();
    const order = [1, 2, 3, 4, 5].map((i) => text.split(`: missed ${i}\n`).length - 1);
    if (order.some((count) => count !== 1)) throw new Error(`each missed line once, got ${order}:\n${text}`);
    const at = [1, 2, 3, 4, 5, "after the restart"].map((i) => text.indexOf(typeof i === "number" ? `: missed ${i}` : `: ${i}`));
    if (at.some((position, i) => i > 0 && position < at[i - 1])) throw new Error(`in order:\n${text}`);
    console.log("browser ok: nothing lost or doubled across the server's restart");
  } finally {
    await browser.close();
    serverA.kill("SIGKILL");
  }
})().catch((e) => {
  console.error(`browser FAILED ${e.message}`);
  process.exit(1);
});
