// contract.mjs - every response the integration suites received agrees with
// the OpenAPI document: its status is declared for its operation and its
// body validates against that response's schema (JSON Schema 2020-12, ajv).
//
//   node tests/contract.mjs OPENAPI.json RECORD.jsonl [TOOLS_DIR]
//
// KEEL_CONTRACT_SKIP: a path prefix skipped by rule ("/test/": keeld-test's
// test-only routes, which its document lists as rows of its table but
// which are no part of the API).
//
// RECORD.jsonl holds one {"method", "path", "status", "content_type",
// "body"} line per response (tests/integration/client.c, KEEL_TEST_RECORD).
// Responses to paths or methods the document does not describe (the
// test-only routes of keeld-test, 404s of unknown paths, 405s) are skipped
// by rule and counted.  Exit status 1 when anything failed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [docFile, recordFile, toolsDir] = process.argv.slice(2);
if (!docFile || !recordFile) {
    console.error('usage: node contract.mjs OPENAPI.json RECORD.jsonl [TOOLS_DIR]');
    process.exit(2);
}
const require = createRequire(
    toolsDir ? pathToFileURL(resolve(toolsDir, 'package.json')) : import.meta.url,
);
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const doc = JSON.parse(readFileSync(docFile, 'utf8'));
// strict: false - the document's schemas carry OpenAPI's annotations
// (description, and the components wrapper below) that ajv does not know.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

// Path templates, the most literal first ("/v1/auth/me" before
// "/v1/auth/{x}" were there one).
const templates = Object.keys(doc.paths).map((t) => ({
    template: t,
    literals: t.split('/').filter((s) => s && !s.startsWith('{')).length,
    re: new RegExp(
        '^' +
            t
                .split('/')
                .map((s) =>
                    s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
                )
                .join('/') +
            '$',
    ),
}));
templates.sort((a, b) => b.literals - a.literals);

function matchPath(path) {
    return templates.find((t) => t.re.test(path));
}

const validators = new Map();
function validator(template, method, status, schema) {
    const key = `${method} ${template} ${status}`;
    if (!validators.has(key)) {
        // The response's schema with the document's components beside it,
        // so that "#/components/..." resolves.
        validators.set(key, ajv.compile({ ...schema, components: doc.components }));
    }
    return validators.get(key);
}

const failures = new Map(); // message -> count
let passed = 0;
let failed = 0;
const skipped = new Map(); // reason -> count

function fail(msg) {
    failed++;
    failures.set(msg, (failures.get(msg) || 0) + 1);
}
function skip(reason) {
    skipped.set(reason, (skipped.get(reason) || 0) + 1);
}

const lines = readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
    let r;
    try {
        r = JSON.parse(line);
    } catch {
        fail(`unreadable record line: ${line.slice(0, 80)}`);
        continue;
    }
    const skipPrefix = process.env.KEEL_CONTRACT_SKIP;
    if (skipPrefix && r.path.startsWith(skipPrefix)) {
        skip(`test-only route (${skipPrefix})`);
        continue;
    }
    const t = matchPath(r.path);
    if (!t) {
        skip('path not in the document');
        continue;
    }
    const method = r.method.toLowerCase();
    // HEAD is answered wherever GET is (API.md 1.3): GET's statuses, no body.
    const op = doc.paths[t.template][method === 'head' ? 'get' : method];
    if (!op) {
        skip('method not in the document');
        continue;
    }
    const where = `${r.method} ${t.template}`;
    const resp = op.responses[String(r.status)];
    if (!resp) {
        fail(`${where} ${r.status}: status not declared in the document`);
        continue;
    }
    if (method === 'head') {
        passed++;
        continue;
    }
    const media = resp.content && resp.content['application/json'];
    if (!media) {
        if (r.body.length > 0) fail(`${where} ${r.status}: a body where the document declares none`);
        else passed++;
        continue;
    }
    if (!/^application\/json\b/i.test(r.content_type || '')) {
        fail(`${where} ${r.status}: content type ${r.content_type} is not JSON`);
        continue;
    }
    let body;
    try {
        body = JSON.parse(r.body);
    } catch {
        fail(`${where} ${r.status}: body is not JSON`);
        continue;
    }
    const v = validator(t.template, method, r.status, media.schema || {});
    if (v(body)) {
        passed++;
    } else {
        const errs = v.errors
            .slice(0, 3)
            .map((e) => `${e.instancePath || '/'} ${e.message}` +
                (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''))
            .join('; ');
        fail(`${where} ${r.status}: ${errs}`);
    }
}

if (failures.size > 0) {
    console.log('contract: responses that disagree with the OpenAPI document:');
    for (const [msg, n] of [...failures].sort()) console.log(`  ${msg}${n > 1 ? ` (x${n})` : ''}`);
}
const skippedTotal = [...skipped.values()].reduce((a, b) => a + b, 0);
if (skippedTotal > 0) {
    console.log(
        `contract: ${skippedTotal} skipped by rule (` +
            [...skipped].map(([k, n]) => `${n} ${k}`).join(', ') +
            ')',
    );
}
console.log(`contract: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
