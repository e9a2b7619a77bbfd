// i18n_keys.mjs - the web UI's catalogues are complete (docs/i18n.md).
//
//   node tests/browser/i18n_keys.mjs SOURCE_DIR [--list]
//
// Every key the UI uses - t('...') in web/*.js, data-i18n="..." in
// web/index.html, and error.<code> for every machine code the API answers
// with (error_code() in src/hub/api.c), and the help text of every lane
// setting (the edge's schema table, as docs/config.md's lane table has it:
// the lane editor shows it through t(s.help)) - must be in every catalogue
// web/i18n/<tag>.json, with a non-empty text naming the same {placeholders}
// as the key; a catalogue key that nothing uses is an error too (a string
// removed from the UI leaves no dead text behind). t() with anything but a
// plain string literal is refused, since this check could not see its
// key. Exit 1 with one line per problem; --list prints the keys used.

import fs from 'node:fs';
import path from 'node:path';

const src = process.argv[2];
if (!src) {
	console.error('usage: i18n_keys.mjs SOURCE_DIR [--list]');
	process.exit(2);
}
const web = path.join(src, 'web');
const problems = [];
const used = new Map(); // key -> where first used

const lit = /\bt\(\s*'((?:[^'\\\n]|\\.)*)'/g;
const call = /\bt\(\s*([^)\s])/g;
for (const f of fs.readdirSync(web).filter((n) => n.endsWith('.js')).sort()) {
	const text = fs.readFileSync(path.join(web, f), 'utf8');
	for (const m of text.matchAll(lit)) {
		const key = m[1].replace(/\\(.)/g, '$1');
		if (!used.has(key)) used.set(key, f);
	}
	for (const m of text.matchAll(call)) {
		const line = text.slice(0, m.index).split('\n').length;
		// allowed: error.<code> (checked below), index.html's data-i18n
		// (read below) and t's own definition
		const here = text.slice(m.index, m.index + 30);
		const before = text.slice(Math.max(0, m.index - 9), m.index);
		if (m[1] !== "'" && !here.startsWith('t(`error.${') && !here.startsWith('t(node.dataset.i18n)') &&
			!here.startsWith('t(s.help)') &&
			before !== 'function ')
			problems.push(`${f}:${line}: t() with a key this check cannot read`);
	}
}
const html = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
for (const m of html.matchAll(/data-i18n="([^"]*)"/g)) if (!used.has(m[1])) used.set(m[1], 'index.html');
const api = fs.readFileSync(path.join(src, 'src/hub/api.c'), 'utf8');
const codes = /error_code\(int status\)\s*\{([\s\S]*?)\n\}/.exec(api);
if (!codes) problems.push('src/hub/api.c: no error_code() to read the codes from');
for (const m of (codes ? codes[1] : '').matchAll(/return "([a-z_]+)";/g)) used.set(`error.${m[1]}`, 'src/hub/api.c');

// the lane table's help texts (docs/config.md is generated from the
// schema table and drift-checked, so it says what GET /api/schema/lane does)
const conf = fs.readFileSync(path.join(src, 'docs/config.md'), 'utf8');
const lanes = /\n## Lanes \(`cameras\[\]\.lanes\[\]`\)\n([\s\S]*?)(?:\n## |$)/.exec(conf);
if (!lanes) problems.push('docs/config.md: no lane table to read the help texts from');
for (const m of (lanes ? lanes[1] : '').matchAll(/^\| `[a-z_]+` \|.* \| ([^|]+) \|$/gm)) used.set(m[1], 'docs/config.md');

if (process.argv.includes('--list')) {
	for (const [k, f] of used) console.log(`${f}\t${k}`);
	process.exit(0);
}

const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
const dir = path.join(web, 'i18n');
const tags = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
for (const want of ['en', 'zh-CN']) if (!tags.includes(want)) problems.push(`web/i18n/${want}.json: missing`);
for (const tag of tags) {
	let cat;
	try {
		cat = JSON.parse(fs.readFileSync(path.join(dir, `${tag}.json`), 'utf8'));
	} catch (e) {
		problems.push(`web/i18n/${tag}.json: ${e.message}`);
		continue;
	}
	for (const [key, where] of used) {
		if (!(key in cat)) problems.push(`web/i18n/${tag}.json: no "${key}" (used in ${where})`);
		else if (typeof cat[key] !== 'string' || !cat[key].trim()) problems.push(`web/i18n/${tag}.json: "${key}" is empty`);
		else if (!key.startsWith('error.') && holes(cat[key]) !== holes(key))
			problems.push(`web/i18n/${tag}.json: "${key}" names {${holes(cat[key])}}, the key {${holes(key)}}`);
	}
	for (const key of Object.keys(cat)) if (!used.has(key)) problems.push(`web/i18n/${tag}.json: "${key}" is used nowhere`);
}
if (problems.length) {
	console.error(`i18n_keys: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
	process.exit(1);
}
console.log(`i18n_keys: ${used.size} keys in ${tags.join(', ')}: complete`);
