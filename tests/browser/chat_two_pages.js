// Two real browser pages in the chat room (headless Chromium driven by
// playwright-core): both join, one speaks and both see it, one leaves and
// the other sees the leave. Saves a screenshot of the page that stayed.
// Usage: node chat_two_pages.js http://127.0.0.1:PORT/ SCREENSHOT.png
"use strict";
const { launch, waitForText } = require("./helpers");

const [url, screenshot] = process.argv.slice(2);

const line = (page, pattern, what) => waitForText(page, "#log", pattern, what);

(async () => {
  const browser = await launch();
  try {
    const alice = await browser.newPage();
    await alice.goto(url);
    await alice.waitForSelector("#status:text('connected')");
    // Guests are named "guest N@PORT" (the port tells servers sharing a room apart).
    await line(alice, /guest \d+@\d+ joined/, "the first page joined");
    const own = (await alice.locator("#log").innerText()).match(/guest (\d+@\d+) joined/)[1];

    const bob = await browser.newPage();
    await bob.goto(url);
    await bob.waitForSelector("#status:text('connected')");
    await line(alice, new RegExp(`guest (?!${own}\\b)\\d+@\\d+ joined`), "the first page saw the second join");
    const other = (await alice.locator("#log").innerText()).match(new RegExp(`guest (?!${own}\\b)(\\d+@\\d+) joined`))[1];

    await alice.fill("#text", "hello from the first page");
    await alice.press("#text", "Enter");
    const said = new RegExp(`guest ${own}: hello from the first page`);
    await line(alice, said, "the speaker sees its message");
    await line(bob, said, "the other page sees it too");

    await bob.close();
    await line(alice, new RegExp(`guest ${other} left`), "the first page saw the second leave");
    await alice.screenshot({ path: screenshot, fullPage: true });
    console.log(`browser ok: screenshot saved to ${screenshot}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`browser FAILED ${e.message}`);
  process.exit(1);
});
