// SPDX-License-Identifier: MIT
/*
 * page_check.js - open a page from disk in headless Chromium through the
 * DevTools Protocol and report what a person would see: console errors
 * and uncaught exceptions, requests for anything but the file itself,
 * how many canvas and svg elements the scripts drew, and whether given
 * texts are in the rendered page; optionally save a screenshot.
 *
 * Usage: node page_check.js PAGE [--screenshot PNG] [--expect TEXT]...
 * Needs the npm package ws (NODE_PATH) and chromium in PATH. Prints one
 * JSON line; exits 1 when something is wrong, 2 when it cannot run.
 */
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');

const TIMEOUT_MS = 90000;
/* After the load event: transitions of the flame graph run 250 ms. */
const SETTLE_MS = 1500;
const WIDTH = 1300;
const MAX_SHOT_HEIGHT = 3200;

function parseArgs(argv) {
	const args = { page: null, screenshot: null, expect: [] };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--screenshot')
			args.screenshot = argv[++i];
		else if (argv[i] === '--expect')
			args.expect.push(argv[++i]);
		else
			args.page = path.resolve(argv[i]);
	}
	return args;
}

function launch(profile) {
	const chrome = spawn('chromium', ['--headless', '--disable-gpu', '--no-sandbox',
		'--remote-debugging-port=0', '--user-data-dir=' + profile, '--no-first-run',
		'--window-size=' + WIDTH + ',1000', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
	return new Promise((resolve, reject) => {
		let err = '';
		chrome.stderr.on('data', (d) => {
			err += d;
			const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
			if (m)
				resolve({ chrome, url: m[1] });
		});
		chrome.on('exit', (code) => reject(new Error('chromium exited with ' + code + ': ' + err)));
	});
}

/* A DevTools client: send(method, params, session) and events by listener. */
function client(url) {
	const ws = new WebSocket(url, { perMessageDeflate: false });
	let id = 0;
	const pending = new Map();
	const listeners = [];
	ws.on('message', (raw) => {
		const msg = JSON.parse(raw);
		if (msg.id && pending.has(msg.id)) {
			const { resolve, reject } = pending.get(msg.id);
			pending.delete(msg.id);
			if (msg.error)
				reject(new Error(JSON.stringify(msg.error)));
			else
				resolve(msg.result);
		} else if (msg.method) {
			listeners.forEach((l) => l(msg));
		}
	});
	return new Promise((resolve, reject) => {
		ws.on('error', reject);
		ws.on('open', () => resolve({
			send(method, params, sessionId) {
				const msg = { id: ++id, method, params: params || {} };
				if (sessionId)
					msg.sessionId = sessionId;
				ws.send(JSON.stringify(msg));
				return new Promise((res, rej) => pending.set(msg.id, { resolve: res, reject: rej }));
			},
			on(fn) {
				listeners.push(fn);
			},
			close() {
				ws.close();
			},
		}));
	});
}

function describeException(d) {
	const e = d.exceptionDetails;
	return (e.exception && e.exception.description) || e.text;
}

async function check(args, cdp) {
	const problems = [];
	const requests = [];
	const pageUrl = 'file://' + args.page;
	const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
	const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
	let loaded;
	const load = new Promise((resolve) => { loaded = resolve; });
	cdp.on((msg) => {
		if (msg.sessionId !== sessionId)
			return;
		const p = msg.params;
		if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
			problems.push('console ' + p.type + ': ' + p.args.map((a) => a.value || a.description).join(' '));
		else if (msg.method === 'Runtime.exceptionThrown')
			problems.push('exception: ' + describeException(p));
		else if (msg.method === 'Log.entryAdded' && p.entry.level === 'error')
			problems.push('log error: ' + p.entry.text + ' ' + (p.entry.url || ''));
		else if (msg.method === 'Network.requestWillBeSent')
			requests.push(p.request.url);
		else if (msg.method === 'Page.loadEventFired')
			loaded();
	});
	for (const domain of ['Runtime', 'Log', 'Page', 'Network'])
		await cdp.send(domain + '.enable', {}, sessionId);
	await cdp.send('Emulation.setDeviceMetricsOverride',
		{ width: WIDTH, height: 1000, deviceScaleFactor: 1, mobile: false }, sessionId);
	const started = Date.now();
	await cdp.send('Page.navigate', { url: pageUrl }, sessionId);
	await load;
	const loadMs = Date.now() - started;
	await new Promise((r) => setTimeout(r, SETTLE_MS));
	const { result } = await cdp.send('Runtime.evaluate', { returnByValue: true, expression:
		'JSON.stringify({ canvas: document.querySelectorAll("canvas").length,' +
		' svg: document.querySelectorAll("svg").length,' +
		' rects: document.querySelectorAll("svg rect").length,' +
		' text: document.body.innerText, height: document.documentElement.scrollHeight })' },
	sessionId);
	const dom = JSON.parse(result.value);
	const outside = requests.filter((u) => u !== pageUrl && !u.startsWith('data:'));
	if (outside.length)
		problems.push('requests beyond the page: ' + outside.join(' '));
	if (!dom.canvas || !dom.svg || !dom.rects)
		problems.push('charts not drawn: ' + dom.canvas + ' canvas, ' + dom.svg + ' svg, ' +
			dom.rects + ' flame graph frames');
	for (const t of args.expect) {
		if (!dom.text.includes(t))
			problems.push('text not in the page: ' + t);
	}
	if (args.screenshot) {
		const height = Math.min(dom.height, MAX_SHOT_HEIGHT);
		await cdp.send('Emulation.setDeviceMetricsOverride',
			{ width: WIDTH, height, deviceScaleFactor: 1, mobile: false }, sessionId);
		await new Promise((r) => setTimeout(r, 300));
		const shot = await cdp.send('Page.captureScreenshot', { format: 'png' }, sessionId);
		fs.writeFileSync(args.screenshot, Buffer.from(shot.data, 'base64'));
	}
	return { problems, loadMs, canvas: dom.canvas, svg: dom.svg, rects: dom.rects };
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	if (!args.page || !fs.existsSync(args.page)) {
		console.log(JSON.stringify({ error: 'no page ' + args.page }));
		process.exit(2);
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'memhook-chromium-'));
	let chrome = null;
	const timer = setTimeout(() => {
		console.log(JSON.stringify({ error: 'timed out' }));
		if (chrome)
			chrome.kill('SIGKILL');
		process.exit(2);
	}, TIMEOUT_MS);
	let code = 2;
	try {
		const l = await launch(profile);
		chrome = l.chrome;
		const cdp = await client(l.url);
		const out = await check(args, cdp);
		await cdp.send('Browser.close').catch(() => {});
		cdp.close();
		console.log(JSON.stringify(out));
		code = out.problems.length ? 1 : 0;
	} catch (e) {
		console.log(JSON.stringify({ error: String(e) }));
	}
	clearTimeout(timer);
	if (chrome && chrome.exitCode === null) {
		const gone = new Promise((r) => chrome.once('exit', r));
		chrome.kill('SIGKILL');
		await gone;
	}
	/*
	 * Its helpers may still be closing files in the profile for a moment;
	 * a profile left behind in /tmp must not change the verdict.
	 */
	try {
		fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
	} catch (e) {
		console.error('page_check: cannot remove ' + profile + ': ' + e.message);
	}
	process.exit(code);
}

main();
