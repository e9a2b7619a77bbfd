// i18n.js - the words of the review UI in the user's language, and times
// in the hub's zone (docs/i18n.md).
//
// Every string a person reads goes through t(): t('Incidents'),
// t('{n} files', { n }). The key is the English text; each language has
// one catalogue, web/i18n/<tag>.json, mapping every key to its words (en
// maps a key to itself, so an English wording can change without touching
// the code). tests/browser/i18n_keys.mjs fails when a key used here, in
// the other pages or in index.html (data-i18n) is missing from a catalogue,
// and a key missing at run time is logged as a console error, which fails
// the browser test. Machine codes from the API (statuses, outcomes, roles)
// are translated here too; the API keeps its codes.
//
// The language is chosen by the hub (GET /api/locale): the header's switch
// (the fl_lang cookie) first, else the browser's Accept-Language, Chinese
// when it accepts Chinese at all, else ui.language. Times are shown in the
// hub's zone (its tz database name for Intl.DateTimeFormat, else its fixed
// offset), whatever the browser's own zone.

export const LANGS = [['zh-CN', '中文'], ['en', 'English']];

const locale = { lang: 'zh-CN', timeZone: null, offset: 0, cat: {} };
const missing = new Set();

export function lang() {
	return locale.lang;
}

// Ask the hub for the language and zone, then load the catalogue. Before
// anything is drawn.
export async function initLocale() {
	try {
		const r = await fetch('/api/locale', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
		const l = await r.json();
		locale.lang = l.lang;
		locale.timeZone = l.time_zone;
		locale.offset = l.tz_offset_s || 0;
	} catch (e) {
		console.error(`i18n: no locale from the hub: ${e.message}`);
	}
	const c = await fetch(`/static/i18n/${locale.lang}.json`, { credentials: 'same-origin' });
	locale.cat = await c.json();
	document.documentElement.lang = locale.lang;
	for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
}

// The words of key in the user's language, {name} replaced from vars.
export function t(key, vars) {
	let s = locale.cat[key];
	if (s === undefined) {
		if (!missing.has(key)) {
			missing.add(key);
			console.error(`i18n: "${key}" is not in web/i18n/${locale.lang}.json`);
		}
		s = key;
	}
	return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

// The header's switch: the choice sticks in the fl_lang cookie, which the
// hub reads before Accept-Language.
export function setLang(tag) {
	document.cookie = `fl_lang=${encodeURIComponent(tag)}; Path=/; Max-Age=31536000; SameSite=Lax`;
	location.reload();
}

// A <select> of the languages (id: the header's, or the login page's).
export function langSwitch(id = 'lang-switch') {
	const s = document.createElement('select');
	s.id = id;
	s.setAttribute('aria-label', t('Language'));
	for (const [tag, name] of LANGS) {
		const o = document.createElement('option');
		o.value = tag;
		o.textContent = name;
		o.selected = tag === locale.lang;
		s.append(o);
	}
	s.addEventListener('change', () => setLang(s.value));
	return s;
}

// The parts of a time (unix seconds) in the hub's zone: YYYY, MM, DD, hh,
// mm, ss and the offset "+08:00".
function parts(t) {
	if (locale.timeZone) {
		const f = new Intl.DateTimeFormat('en-US', {
			timeZone: locale.timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
			day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
		});
		const p = Object.fromEntries(f.formatToParts(new Date(t * 1000)).map((x) => [x.type, x.value]));
		const off = /GMT([+-]\d\d:\d\d)?/.exec(p.timeZoneName);
		return { ...p, off: off && off[1] ? off[1] : '+00:00' };
	}
	const d = new Date((t + locale.offset) * 1000);
	const o = Math.abs(locale.offset);
	const two = (n) => String(n).padStart(2, '0');
	return {
		year: String(d.getUTCFullYear()), month: two(d.getUTCMonth() + 1), day: two(d.getUTCDate()),
		hour: two(d.getUTCHours()), minute: two(d.getUTCMinutes()), second: two(d.getUTCSeconds()),
		off: `${locale.offset < 0 ? '-' : '+'}${two(Math.floor(o / 3600))}:${two(Math.floor(o % 3600 / 60))}`,
	};
}

// YYYY-MM-DD HH:MM:SS in the hub's zone ('' for none); with offset, the
// zone's offset appended (" +08:00": where the time is evidence).
export function fmtTime(t, withOffset) {
	if (t === null || t === undefined || !isFinite(t)) return '';
	const p = parts(t);
	const s = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
	return withOffset ? `${s} ${p.off}` : s;
}

// A duration in seconds: "42 s", "3 min 05 s", "2 h 07 min" (en);
// "42秒", "3分05秒", "2小时07分" (zh-CN).
export function fmtDuration(s) {
	if (s === null || s === undefined || !isFinite(s)) return '–';
	s = Math.round(s);
	const two = (n) => String(n).padStart(2, '0');
	const zh = locale.lang === 'zh-CN';
	if (s < 60) return zh ? `${s}秒` : `${s} s`;
	if (s < 3600) {
		const m = Math.floor(s / 60);
		return zh ? `${m}分${two(s % 60)}秒` : `${m} min ${two(s % 60)} s`;
	}
	const h = Math.floor(s / 3600), m = two(Math.floor((s % 3600) / 60));
	return zh ? `${h}小时${m}分` : `${h} h ${m} min`;
}
