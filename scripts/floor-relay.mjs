#!/usr/bin/env node
// The floor for any Node stdio relay (README "Performance"): stdin lines →
// node:http keep-alive POST → stdout, nothing else. Used only by the benchmark.
import http from 'node:http';
import readline from 'node:readline';

const url = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });
let session;
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (session) headers['mcp-session-id'] = session;
  const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
    if (res.headers['mcp-session-id']) session = res.headers['mcp-session-id'];
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      if (chunks.length) process.stdout.write(Buffer.concat(chunks).toString('utf8').trim() + '\n');
    });
  });
  req.end(line);
});
rl.on('close', () => process.exit(0));
