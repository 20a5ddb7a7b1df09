// Node's `ws` sends one message in fragments ({ fin: false } ... { fin: true })
// to examples/upload.rs, then downloads it. Usage: node node_streaming.js ws://HOST:PORT
const crypto = require("crypto");
const WebSocket = require("ws");

const base = process.argv[2];
const parts = Array.from({ length: 24 }, (_, i) => Buffer.alloc(1 << 20, i * 7));
const whole = Buffer.concat(parts);
const expected = `ok ${whole.length} ${crypto.createHash("sha256").update(whole).digest("hex")}`;

function fail(why) {
  console.error(`node ws streaming: ${why}`);
  process.exit(1);
}

const up = new WebSocket(`${base}/upload/node.bin`, { perMessageDeflate: false });
up.on("open", () => parts.forEach((part, i) => up.send(part, { binary: true, fin: i === parts.length - 1 })));
up.on("message", (data) => { if (data.toString() !== expected) fail(`reply ${data}`); up.reply = true; });
up.on("close", (code) => {
  if (code !== 1000 || !up.reply) fail(`upload closed ${code}`);
  const down = new WebSocket(`${base}/download/node.bin`, { maxPayload: 0 });
  down.on("message", (data) => { if (!whole.equals(data)) fail("downloaded bytes differ"); down.got = true; });
  down.on("close", (code) => {
    if (code !== 1000 || !down.got) fail(`download closed ${code}`);
    console.log(`node ws: ${parts.length} fragments up, ${whole.length} bytes down`);
  });
});
setTimeout(() => fail("timed out"), 60000).unref();
