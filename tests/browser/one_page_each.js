// One real browser page per example (headless Chromium driven by
// playwright-core). The chat page sends a long message on open (?say=);
// passes when its socket opened, permessage-deflate was agreed, and the
// message came back through the room. The echo page sends on open too and
// must show the echo. Waits for each, so a slow machine cannot pass or
// fail it by timing.
// Usage: node one_page_each.js http://127.0.0.1:CHAT_PORT/ http://127.0.0.1:ECHO_PORT/
"use strict";
const { launch, waitForText } = require("./helpers");

const [chatUrl, echoUrl] = process.argv.slice(2);
// Over the chat example's compression threshold, so the server compresses it.
const long = `hello from chromium ${"compress me ".repeat(20).trim()}`;

(async () => {
  const browser = await launch();
  try {
    const chat = await browser.newPage();
    await chat.goto(`${chatUrl}?say=${encodeURIComponent(long)}`);
    await waitForText(chat, "#status", /^connected$/, "the page's WebSocket opened");
    await waitForText(chat, "#extensions", /permessage-deflate.*client_no_context_takeover/, "permessage-deflate was agreed");
    const said = new RegExp(`guest \\d+@\\d+: ${long}`);
    await waitForText(chat, "#log", said, "the long message came back through the room (over the threshold: compressed)");

    const echo = await browser.newPage();
    await echo.goto(`${echoUrl}?say=hello%20echo`);
    await waitForText(echo, "#log", /echo: hello echo/, "the echo example's page sent a message and shows its echo");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`browser FAILED ${e.message}`);
  process.exit(1);
});
