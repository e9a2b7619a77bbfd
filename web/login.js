// login.js - the /login page: user name and password, then back to where
// the user was going (?next=, a local path only: an alert link opened on a
// phone comes here first and returns to its incident).

import { session, api, el, field, setTitle } from './ui.js';

// Only a path on this hub: "/incidents/x", not "//evil.example" or
// "/\evil.example" (which browsers read as another host), nor "https:...".
export function safeNext(next) {
	if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '/incidents';
	if (/[\u0000-\u001f]/.test(next) || next.startsWith('/login')) return '/incidents';
	return next;
}

export function loginPage(root, params) {
	setTitle('Log in');
	const error = el('p.error#login-error', { role: 'alert', 'aria-live': 'assertive' });
	const button = el('button', { type: 'submit' }, 'Log in');
	const form = el('form#login', { method: 'post', action: '/login' },
		el('h1', null, 'firelane'),
		el('p.sub', null, 'Fire-lane obstruction review'),
		field('User', el('input', { name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
		field('Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
		button, error);
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
			if (e.status === 401) error.textContent = 'Wrong user name or password.';
			else if (e.status === 429) error.textContent = `Too many failed attempts: try again in ${e.retryAfter || 'a few'} s.`;
			else error.textContent = `Could not log in: ${e.message}`;
			form.elements.password.value = '';
			form.elements.password.focus();
		} finally {
			button.disabled = false;
		}
	});
	root.replaceChildren(el('section.login-box', null, form));
	form.elements.user.focus();
}
