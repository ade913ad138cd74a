// The peer a Hookdeck/Svix-style JavaScript transformation would be: ajv (draft 2020-12, compiled once)
// validates the payload against the project's own source schema, then a hand mapping, UUIDv5 and SHA-256, in Node.
// usage: node bench.mjs SCHEMA.json SAMPLE.json SOURCE [ITERATIONS] [BATCH]   SOURCE: mercoa|willsuite|highlevel
// prints one JSON line with ns_per_op (and best_batch_ns_per_op: the mean of the fastest BATCH consecutive calls)
//
// tombstone's copy of the peer the performance goals are measured against (issue 11), changed in
// one place only: it takes the schema file itself rather than a folder to pick one from, since
// `willsuite` would otherwise pick `willsuite-invoice.schema.json` for an item deletion. And it also
// prints the mean of its fastest batch of BATCH calls, the figure the benchmark takes from every row
// alike: on a shared machine the mean of a whole loop mostly measures the neighbours.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [schemaPath, samplePath, source = "mercoa", iters = "20000", batch = "1"] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const pick = path.basename(schemaPath);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const raw = fs.readFileSync(samplePath);
const NS = Buffer.from("13e7f5bab18257f9be3dc73b47ad3873", "hex");
function uuid5(name) {
  const h = crypto.createHash("sha1").update(NS).update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50; h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
const trim = (s) => (typeof s === "string" && s.trim() ? s.trim() : undefined);
const MAP = {
  mercoa(p) {
    const inv = p.invoice;
    const vendorSide = inv.vendor?.isCustomer === true && inv.payer?.isCustomer !== true;
    const payer = trim(inv.payerId) ?? trim(inv.payer?.id);
    const vendor = trim(inv.vendorId) ?? trim(inv.vendor?.id);
    const clinic = (vendorSide ? vendor : payer) ?? "clinic-1";
    const client = vendorSide ? payer : vendor;
    const e = { invoice_id: trim(inv.id), clinic_id: clinic };
    if (client) e.client_id = client;
    return [`mercoa:invoice.deleted:${trim(inv.id)}`, { invoices: [e] }];
  },
  willsuite(p) {
    const it = p.invoice_item_data;
    return [`willsuite:case_invoice_item.deleted:${trim(it.id)}`,
      { invoice_lines: [{ invoice_line_id: trim(it.id), invoice_id: trim(it.case_invoice_id), clinic_id: "clinic-1" }] }];
  },
  highlevel(p) {
    const clinic = trim(p.locationId) ?? (p.altType === "location" ? trim(p.altId) : undefined) ?? "clinic-1";
    const e = { invoice_id: trim(p._id), clinic_id: clinic };
    const client = trim(p.contactDetails?.id);
    if (client) e.client_id = client;
    return [`highlevel:InvoiceDelete:${trim(p._id)}`, { invoices: [e] }];
  },
};
function convert(buf) {
  const p = JSON.parse(buf);
  if (!validate(p)) return { errors: validate.errors };
  const [name, body] = MAP[source](p);
  const key = uuid5(name);
  const task = crypto.createHash("sha256").update("acme-vet\0" + key).digest("hex");
  return { body: JSON.stringify(body), key, task };
}
const first = convert(raw);
if (first.errors) { console.error(JSON.stringify(first.errors)); process.exit(1); }
for (let i = 0; i < 2000; i++) convert(raw);
const t0 = process.hrtime.bigint();
let best = Infinity;
for (let done = 0; done < +iters; done += +batch) {
  const b0 = process.hrtime.bigint();
  for (let i = 0; i < +batch; i++) convert(raw);
  best = Math.min(best, Number(process.hrtime.bigint() - b0) / +batch);
}
const ns = Number(process.hrtime.bigint() - t0) / (Math.ceil(+iters / +batch) * +batch);
console.log(JSON.stringify({ peer: "ajv+js", source, schema: pick, bytes: raw.length, ns_per_op: Math.round(ns), best_batch_ns_per_op: Math.round(best), body: first.body }));
