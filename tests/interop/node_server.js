// Node's `ws` as an echo server with permessage-deflate for the hyperws
// client. Usage: node node_server.js PORT [max-window-bits]
"use strict";
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const windowBits = process.argv[3] ? Number(process.argv[3]) : undefined;
const perMessageDeflate = { threshold: 0 };
if (windowBits) Object.assign(perMessageDeflate, { serverMaxWindowBits: windowBits, clientMaxWindowBits: windowBits });
const server = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate, maxPayload: 0 });
server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
server.on("listening", () => console.log(`node echo server on port ${port}`));
