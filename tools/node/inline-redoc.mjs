// inline-redoc.mjs - make `redocly build-docs` output self-contained: the
// page's <script src="https://cdn.redocly.com/.../redoc.standalone.js">
// becomes an inline script of the same bundle from the pinned redoc
// package (tools/node/package-lock.json), so viewing the page fetches
// nothing.  Usage: node inline-redoc.mjs FILE.html [TOOLS_DIR] (the file
// is rewritten in place; TOOLS_DIR holds node_modules, default this one's).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) {
    console.error('usage: node inline-redoc.mjs FILE.html');
    process.exit(2);
}
const require = createRequire(
    process.argv[3]
        ? pathToFileURL(resolve(process.argv[3], 'package.json'))
        : import.meta.url,
);
const bundlePath = require.resolve('redoc/bundles/redoc.standalone.js', {
    paths: [require.resolve('@redocly/cli/package.json')],
});
const bundle = readFileSync(bundlePath, 'utf8')
    .replace(/<\/script/gi, '<\\/script')
    .replace(/\n\/\/# sourceMappingURL=.*$/m, '');
const html = readFileSync(file, 'utf8');
const tag = /<script src="https:\/\/[^"]*\/redoc\.standalone\.js"><\/script>/;
if (!tag.test(html)) {
    console.error(`inline-redoc: ${file}: no redoc script tag to inline`);
    process.exit(1);
}
writeFileSync(file, html.replace(tag, () => `<script>${bundle}</script>`));
