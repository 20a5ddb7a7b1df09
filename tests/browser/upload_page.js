// Headless Chromium uploads a 256 MiB Blob through examples/upload.rs's page
// (its own upload(), the browser's WebSocket sending the Blob as one message)
// and downloads it back as a Blob. Passes when the server's "ok <bytes>
// <sha256>" matches the Blob's (hashed here in Node), every MiB of the
// download (an ArrayBuffer: headless Chromium cannot read back a Blob this
// large) equals what was sent, and the stored file shows in the page's list. Prints the server's peak memory growth when given its pid.
// Usage: node upload_page.js http://127.0.0.1:PORT/ [SERVER_PID]
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const { launch, waitForText } = require("./helpers");

const [url, pid] = process.argv.slice(2);
const MIB = 256;
const part = Buffer.alloc(1 << 20);
for (let i = 0; i < part.length; i++) part[i] = (i * 7 + (i >> 10)) & 0xff;
const hash = crypto.createHash("sha256");
for (let i = 0; i < MIB; i++) hash.update(part);
const expected = `ok ${MIB << 20} ${hash.digest("hex")}`;
const kib = (key) => pid ? Number(fs.readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${key}:\\s+(\\d+)`))[1]) : 0;

(async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const before = kib("VmRSS");
    const result = await page.evaluate(async (mib) => {
      const part = new Uint8Array(1 << 20);
      for (let i = 0; i < part.length; i++) part[i] = (i * 7 + (i >> 10)) & 0xff;
      const blob = new Blob(Array.from({ length: mib }, () => part));
      const reply = await window.hyperwsUpload.upload("chromium.bin", blob, () => {});
      // As an ArrayBuffer: headless Chromium cannot read back a Blob this large.
      const down = new Uint8Array(await window.hyperwsUpload.download("chromium.bin", "arraybuffer"));
      let same = down.length === blob.size;
      for (let at = 0; same && at < down.length; at += part.length) {
        same = down.subarray(at, at + part.length).every((byte, i) => byte === part[i]);
      }
      return { size: blob.size, reply, same };
    }, MIB);
    if (result.reply !== expected) throw new Error(`upload reply ${result.reply}, expected ${expected}`);
    if (!result.same) throw new Error("the downloaded Blob differs from what was sent");
    await page.reload();
    await waitForText(page, "#files", new RegExp(`chromium.bin \\(${result.size} bytes\\)`), "the page lists the stored file");
    const growth = kib("VmHWM") - before;
    console.log(`browser: chromium uploaded and downloaded ${MIB} MiB, hashes match` +
      (pid ? `; server peak memory grew ${growth} KiB` : ""));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`browser FAILED ${e.message}`);
  process.exit(1);
});
