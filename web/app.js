// app.js - the review UI's entry point: session, navigation and routes.
//
// The hub answers every UI route (/login, /incidents, /incidents/ID,
// /reports, /reports/weekly, /fleet, /admin) with index.html (docs/api.md);
// this script reads location.pathname and draws the page into <main>. Links
// inside the UI are followed with the history API (no reload), so back and
// forward work; every page keeps its state (filters, page, report period) in
// the URL's query, so a reload or a shared link shows the same thing.

import { session, api, el, setTitle, t, roleLabel } from './ui.js';
import { initLocale, langSwitch } from './i18n.js';
import { loginPage } from './login.js';
import { incidentsPage } from './incidents.js';
import { incidentPage } from './incident.js';
import { reportsPage, weeklyPage } from './reports.js';
import { fleetPage } from './fleet.js';
import { registerPage } from './register.js';
import { adminPage } from './admin.js';
import { devicesPage, devicePage } from './devices.js';

const routes = [
	[/^\/incidents\/?$/, incidentsPage, 'incidents'],
	[/^\/incidents\/([A-Za-z0-9_.-]+)\/?$/, incidentPage, 'incidents'],
	[/^\/reports\/?$/, reportsPage, 'reports'],
	[/^\/reports\/weekly\/?$/, weeklyPage, 'reports'],
	[/^\/fleet\/?$/, fleetPage, 'fleet'],
	[/^\/register\/?$/, registerPage, 'register'],
	[/^\/admin\/?$/, adminPage, 'admin'],
	[/^\/devices\/?$/, devicesPage, 'devices'],
	[/^\/devices\/([A-Za-z0-9_.-]+)\/?$/, devicePage, 'devices'],
];

const main = () => document.getElementById('main');
let renderCount = 0;
let pageCleanup = null;

// navigate(url): show another page of the UI without a reload.
export function navigate(url, replace) {
	if (replace) history.replaceState(null, '', url);
	else history.pushState(null, '', url);
	render();
}

async function loadSession() {
	try {
		Object.assign(session, await api('GET', '/api/session'));
		return true;
	} catch (e) {
		return false;
	}
}

function drawNav(section) {
	document.getElementById('top').hidden = false;
	document.getElementById('nav-admin').hidden = session.role !== 'admin';
	const installer = session.role === 'installer';
	document.getElementById('nav-register').hidden = session.role === 'enforcement' || installer;
	// an installer sets devices up and sees no incident (docs/api.md, "Roles")
	document.getElementById('nav-devices').hidden = !(session.role === 'admin' || installer);
	for (const id of ['nav-incidents', 'nav-reports']) document.getElementById(id).hidden = installer;
	for (const a of document.querySelectorAll('#nav a[data-nav]')) {
		a.classList.toggle('active', a.dataset.nav === section);
		if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	const who = document.getElementById('whoami');
	who.replaceChildren(el('span.user', null, session.user), ' ',
		el('span.role', { dataset: { role: session.role } }, session.role === 'property' || session.role === 'installer' ?
			`${roleLabel(session.role)} (${session.sites.join(', ')})` : roleLabel(session.role)));
}

// render(): draw the page of the current location. A render started later
// wins over one still waiting for the API (fast clicking).
export async function render() {
	const n = ++renderCount;
	if (pageCleanup) {
		pageCleanup();
		pageCleanup = null;
	}
	const path = location.pathname;
	const params = new URLSearchParams(location.search);
	const root = main();
	if (path === '/login') {
		document.getElementById('top').hidden = true;
		root.replaceChildren();
		return loginPage(root, params);
	}
	if (!session.user && !(await loadSession())) {
		location.replace('/login?next=' + encodeURIComponent(path + location.search));
		return;
	}
	if (path === '/' || path === '') return navigate(session.role === 'installer' ? '/devices' : '/incidents', true);
	const route = routes.find(([re]) => re.test(path));
	// an installer's pages are the fleet and the devices (the login's
	// default, /incidents, is not one of them)
	if (session.role === 'installer' && route && !['fleet', 'devices'].includes(route[2])) return navigate('/devices', true);
	drawNav(route ? route[2] : '');
	const page = el('div.page');
	const ctx = {
		params,
		stale: () => n !== renderCount,
		onLeave: (fn) => { pageCleanup = fn; },
	};
	if (!route) {
		setTitle(t('Not found'));
		root.replaceChildren(el('section.notice#not-found', null, el('h1', null, t('Not found')),
			el('p', null, t('There is no page at {path}.', { path }))));
		document.body.dataset.shown = location.pathname + location.search;
		return;
	}
	if (route[2] === 'admin' && session.role !== 'admin') {
		setTitle(t('Not allowed'));
		root.replaceChildren(el('section.notice#not-allowed', null, el('h1', null, t('Not allowed')),
			el('p', null, t('The admin pages are for administrators.'))));
		document.body.dataset.shown = location.pathname + location.search;
		return;
	}
	// The old page stays until the new one is ready; "Loading" only when
	// the hub is slow to answer.
	const slow = setTimeout(() => {
		if (!ctx.stale()) root.replaceChildren(el('p.loading', null, t('Loading…')));
	}, 400);
	try {
		await route[1](page, { ...ctx, match: route[0].exec(path) });
	} catch (e) {
		if (ctx.stale()) return;
		page.replaceChildren(el('section.notice.error#page-error', { role: 'alert' },
			el('h1', null, e.status === 404 ? t('Not found') : t('Something went wrong')),
			el('p', { title: e.message }, apiMessage(e))));
	}
	clearTimeout(slow);
	if (ctx.stale()) return;
	root.replaceChildren(page);
	// which location the page on screen shows (the browser tests wait for it)
	document.body.dataset.shown = location.pathname + location.search;
	window.scrollTo(0, 0);
}

async function logout() {
	try {
		await api('POST', '/api/logout');
	} catch (e) {
		// the session may be gone already: the login page is where we go anyway
	}
	Object.assign(session, { user: null, role: null, sites: [], csrf: null });
	location.assign('/login');
}

// Links to UI pages stay in the page; /api/, /evidence/ and downloads load
// normally.
function onClick(ev) {
	if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
	const a = ev.target.closest('a[href]');
	if (!a || a.target || a.hasAttribute('download')) return;
	const url = new URL(a.href, location.href);
	if (url.origin !== location.origin) return;
	if (/^\/(api|evidence|static)\//.test(url.pathname) || url.pathname === '/login') return;
	ev.preventDefault();
	navigate(url.pathname + url.search);
}

// An API error in the user's words: the hub's machine code when it sent
// one (docs/api.md), else its English text.
function apiMessage(e) {
	return e.code ? t(`error.${e.code}`) : e.message;
}

document.addEventListener('click', onClick);
window.addEventListener('popstate', render);
document.getElementById('logout').addEventListener('click', logout);
// the words and the zone first: nothing is drawn before them
initLocale().then(() => {
	document.getElementById('lang-box').replaceChildren(langSwitch());
	render();
});
