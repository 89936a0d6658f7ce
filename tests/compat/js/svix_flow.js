// The workflow of tests/api/test_svix_sdk_flow.py, driven by the unmodified `svix` npm package.
// Usage: node svix_flow.js <server url> <admin token> <receiver url>; prints one JSON object.
"use strict";
const { Svix } = require("svix");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const [serverUrl, token, hook] = process.argv.slice(2);
  const svix = new Svix(token, { serverUrl });
  const out = {};

  const app = await svix.application.create({ name: "Acme", uid: "acme" });
  out.appId = app.id;
  await svix.eventType.create({ name: "invoice.paid", description: "An invoice was paid" });
  const ep = await svix.endpoint.create(app.id, { url: hook, filterTypes: ["invoice.paid"] });
  out.endpoint = ep;
  out.secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;

  const msg = await svix.message.create("acme", {
    eventType: "invoice.paid",
    payload: { amount: 42 },
    tags: ["billing"],
  });
  out.msg = msg;
  await svix.message.create("acme", { eventType: "other.event", payload: { ignored: true } });

  let attempts = [];
  for (let i = 0; i < 1200 && attempts.length === 0; i++) {
    attempts = (await svix.messageAttempt.listByEndpoint(app.id, ep.id)).data;
    if (attempts.length === 0) await sleep(100);
  }
  out.attempts = attempts;
  out.messageTypes = (await svix.message.list(app.id)).data.map((m) => m.eventType);
  out.tagged = (await svix.message.list(app.id, { tag: "billing" })).data.map((m) => m.id);

  await svix.endpoint.rotateSecret(app.id, ep.id, {});
  out.newSecret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  await svix.messageAttempt.resend(app.id, msg.id, ep.id);

  // Upsert: PUT on a missing uid creates it; the same PUT again updates it.
  out.upserted = await svix.endpoint.update(app.id, "shipping", { url: hook, filterTypes: ["invoice.paid"] });
  out.upsertedAgain = await svix.endpoint.update(app.id, "shipping", { url: hook, description: "second" });
  out.endpointCount = (await svix.endpoint.list(app.id)).data.length;
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.body ? JSON.stringify(err.body) : (err && err.stack) || String(err));
  process.exit(1);
});
