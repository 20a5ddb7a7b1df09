// What the browser checks share: starting headless Chromium, and waiting
// for what a page should show.
"use strict";
const { chromium } = require("playwright-core");

// The Chromium at $CHROMIUM (Debian's by default), kept off the network
// beyond loopback.
function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic"],
  });
}

// Waits (up to 10 s) until the text of `selector` on `page` matches
// `pattern`; prints "browser ok: <what>", or throws with the text it saw.
async function waitForText(page, selector, pattern, what) {
  try {
    await page.waitForFunction(
      ([sel, source]) => new RegExp(source).test(document.querySelector(sel).innerText),
      [selector, pattern.source],
      { timeout: 10000 },
    );
  } catch (e) {
    const text = await page.locator(selector).innerText();
    throw new Error(`${what}: ${selector} never matched ${pattern}; it shows:\n${text}`);
  }
  console.log(`browser ok: ${what}`);
}

module.exports = { launch, waitForText };
