// login.js - the /login page: user name and password, then back to where
// the user was going (?next=, a local path only: an alert link opened on a
// phone comes here first and returns to its incident).

import { session, api, el, field, setTitle, t } from './ui.js';
import { langSwitch } from './i18n.js';

// Only a path on this hub: "/incidents/x", not "//evil.example" or
// "/\evil.example" (which browsers read as another host), nor "https:...".
export function safeNext(next) {
	if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '/incidents';
	if (/[\u0000-\u001f]/.test(next) || next.startsWith('/login')) return '/incidents';
	return next;
}

export function loginPage(root, params) {
	setTitle(t('Log in'));
	const error = el('p.error#login-error', { role: 'alert', 'aria-live': 'assertive' });
	const button = el('button', { type: 'submit' }, t('Log in'));
	const form = el('form#login', { method: 'post', action: '/login' },
		el('h1', null, 'firelane'),
		el('p.sub', null, t('Fire-lane obstruction review')),
		field(t('User'), el('input', { name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
		field(t('Password'), el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
		button, error, el('p.lang', null, langSwitch('login-lang')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		button.disabled = true;
		try {
			const r = await api('POST', '/api/login', {
				user: form.elements.user.value, password: form.elements.password.value,
			});
			Object.assign(session, r);
			location.assign(safeNext(params.get('next')));
		} catch (e) {
			if (e.status === 401) error.textContent = t('Wrong user name or password.');
			else if (e.status === 429) error.textContent = t('Too many failed attempts: try again in {s} s.', { s: e.retryAfter || '…' });
			else error.textContent = t('Could not log in: {why}', { why: e.message });
			form.elements.password.value = '';
			form.elements.password.focus();
		} finally {
			button.disabled = false;
		}
	});
	root.replaceChildren(el('section.login-box', null, form));
	form.elements.user.focus();
}
