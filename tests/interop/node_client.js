// Node's `ws` as the client of a hyperws echo server, with
// permessage-deflate: each offer below must be agreed and every message must
// come back unchanged. Usage: node node_client.js ws://127.0.0.1:PORT/
"use strict";
const crypto = require("crypto");
const WebSocket = require("ws");

const url = process.argv[2];
const OFFERS = {
  default: { threshold: 0 },
  "client_max_window_bits=10, server_max_window_bits=11": { threshold: 0, clientMaxWindowBits: 10, serverMaxWindowBits: 11 },
  "no context takeover": { threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true },
};

function messages() {
  const record = (n) => JSON.stringify({ user: "ada", status: "online", rooms: ["general", "rust"], n });
  const list = ["", "é"];
  for (let n = 0; n < 20; n++) list.push(record(n));
  list.push("κόσμε ".repeat(20000));
  list.push(crypto.randomBytes(100000));
  list.push(Buffer.alloc(300000));
  return list;
}

function check(name, perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 0 });
    const list = messages();
    let next = 0;
    ws.on("open", () => {
      if (!ws.extensions.startsWith("permessage-deflate")) return reject(new Error(`[${name}] not agreed: ${ws.extensions}`));
      ws.send(list[0]);
    });
    ws.on("message", (data, isBinary) => {
      const sent = list[next];
      const same = typeof sent === "string" ? !isBinary && data.toString("utf8") === sent : isBinary && Buffer.compare(data, sent) === 0;
      if (!same) return reject(new Error(`[${name}] message ${next} came back changed`));
      next += 1;
      if (next < list.length) return ws.send(list[next]);
      console.log(`node client ok [${name}]: ${ws.extensions}; ${next} messages echoed`);
      ws.close(1000);
    });
    ws.on("close", () => (next === list.length ? resolve() : reject(new Error(`[${name}] closed after ${next} messages`))));
    ws.on("error", reject);
  });
}

(async () => {
  for (const [name, options] of Object.entries(OFFERS)) await check(name, options);
})().catch((e) => {
  console.error(`node client FAILED ${e.message}`);
  process.exit(1);
});
