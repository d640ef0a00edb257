// SPDX-License-Identifier: MIT
/*
 * view.js - draws memhook's HTML report from the data memhook wrote into
 * the page (script#memhook-data, docs/REPORT.md "html"): the process tree,
 * and per process the summary, memory and kernel activity over time
 * (uPlot), the top stacks' live bytes as stacked series, flame graphs by
 * metric (d3-flame-graph), loss records and a pmap-like mappings table.
 *
 * Must never compute a figure memhook did not: it only draws, formats and
 * picks columns. Must never fetch anything: the page opens from disk.
 */
(function () {
	'use strict';

	const data = JSON.parse(document.getElementById('memhook-data').textContent);
	const frames = data.frames;
	const app = document.getElementById('app');
	/* Colours of series, in order (top stacks, then other lines). */
	const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948',
		'#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6'];
	const CHART_HEIGHT = 240;

	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (k === 'class')
				e.className = v;
			else if (k.startsWith('on'))
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v);
		}
		for (const c of children.flat()) {
			if (c !== null && c !== undefined)
				e.append(c instanceof Node ? c : String(c));
		}
		return e;
	}

	function fmtBytes(v) {
		if (v === null || v === undefined)
			return '-';
		const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let u = 0;
		while (Math.abs(v) >= 1024 && u < units.length - 1) {
			v /= 1024;
			u++;
		}
		return (u ? v.toFixed(1) : String(Math.round(v))) + ' ' + units[u];
	}

	function fmtCount(v) {
		return v === null || v === undefined ? '-' : Math.round(v).toLocaleString('en');
	}

	function fmtValue(v, unit) {
		return unit === 'bytes' ? fmtBytes(v) : fmtCount(v);
	}

	function seconds(ns) {
		return ns / 1e9;
	}

	function basename(path) {
		return path ? path.slice(path.lastIndexOf('/') + 1) : '';
	}

	/* "fn (file:line) in module" for frame i of the frame table. */
	function frameText(i) {
		let s = frames.name[i];
		if (frames.file[i])
			s += ' (' + frames.file[i] + (frames.line[i] ? ':' + frames.line[i] : '') + ')';
		if (frames.module[i] >= 0)
			s += ' in ' + basename(frames.modules[frames.module[i]]);
		return s;
	}

	/* The first frame of a JSON STACK's frames with a function outside the allocator. */
	function stackLabel(stackFrames) {
		const skip = /^(malloc|calloc|realloc|free|operator new|_?PyMem_|_?PyObject_(Malloc|Calloc|Realloc)|__libc_|_int_)/;
		const named = stackFrames.filter((f) => f.function);
		const f = named.find((x) => !skip.test(x.function)) || named[0];
		return f ? f.function + (f.file ? ' (' + basename(f.file) + ':' + f.line + ')' : '') :
			'[unknown stack]';
	}

	function procName(p) {
		return 'process ' + p.pid + ' (' + (p.process.command || '?') + ')';
	}

	/* A uPlot plugin drawing labelled vertical markers at times in seconds. */
	function markersPlugin(markers) {
		return {
			hooks: {
				draw: [(u) => {
					const ctx = u.ctx;
					ctx.save();
					ctx.font = '12px sans-serif';
					for (const m of markers) {
						const x = Math.round(u.valToPos(m.t, 'x', true));
						ctx.strokeStyle = m.color;
						ctx.fillStyle = m.color;
						ctx.setLineDash([4, 3]);
						ctx.beginPath();
						ctx.moveTo(x, u.bbox.top);
						ctx.lineTo(x, u.bbox.top + u.bbox.height);
						ctx.stroke();
						ctx.fillText(m.label, x + 3, u.bbox.top + 12 + 14 * m.row);
					}
					ctx.restore();
				}],
			},
		};
	}

	function plot(container, title, xs, series, opts) {
		const width = Math.max(600, Math.min(1200, container.clientWidth || 1000));
		const o = Object.assign({
			title: title,
			width: width,
			height: CHART_HEIGHT,
			scales: { x: { time: false } },
			axes: [{ label: 'seconds since start' },
				{ size: 80, values: (u, vals) => vals.map(opts.fmt || fmtBytes) }],
			series: [{ label: 's', value: (u, v) => v === null ? '-' : v.toFixed(3) }]
				.concat(series.map((s) => s.opts)),
		}, opts.uplot || {});
		return new uPlot(o, [xs].concat(series.map((s) => s.values)), container);
	}

	function line(label, color, values, extra) {
		return { values: values, opts: Object.assign({ label: label, stroke: color, width: 1.5,
			value: (u, v) => fmtBytes(v) }, extra || {}) };
	}

	function memoryChart(p, section) {
		const tl = p.timeline;
		const s = p.summary;
		if (!tl.length) {
			section.append(el('p', { class: 'missing' },
				'No RSS or residency sample of this process: no memory-over-time chart.'));
			return;
		}
		const xs = tl.map((pt) => seconds(pt.time_ns));
		const series = [
			line('RSS anon', PALETTE[0], tl.map((pt) => pt.rss_anon_bytes)),
			line('RSS file', PALETTE[1], tl.map((pt) => pt.rss_file_bytes)),
			line('RSS shmem', PALETTE[3], tl.map((pt) => pt.rss_shmem_bytes)),
			line('swap', PALETTE[2], tl.map((pt) => pt.swap_bytes)),
			line('live heap', PALETTE[4], tl.map((pt) => pt.live_heap_bytes)),
			line('retained free heap', PALETTE[6],
				tl.map((pt) => pt.snapshot ? pt.retained_free_heap_bytes : null),
				{ paths: () => null, points: { show: true, size: 7 } }),
		];
		const markers = [{ t: seconds(s.peak_time_ns), label: 'heap peak', color: '#59a14f', row: 0 }];
		if (s.rss_peak_time_ns !== null)
			markers.push({ t: seconds(s.rss_peak_time_ns), label: 'RSS peak', color: '#4e79a7', row: 1 });
		if (p.process.end === 'oom')
			markers.push({ t: seconds(s.duration_ns), label: 'OOM kill', color: '#e15759', row: 2 });
		else if (p.process.end !== 'running' && p.process.end !== 'exec')
			markers.push({ t: seconds(s.duration_ns), label: 'exit', color: '#555', row: 2 });
		const div = el('div', { class: 'chart' });
		section.append(div);
		plot(div, 'Program RSS, swap, live heap and retained free heap', xs, series,
			{ uplot: { plugins: [markersPlugin(markers)] } });
	}

	/* The top stacks' live bytes, stacked (largest at the bottom), the rest on top. */
	function stacksChart(p, section) {
		const st = p.stack_timeline;
		if (!st.time_ns.length || !st.stacks.length)
			return;
		const xs = st.time_ns.map(seconds);
		const n = st.stacks.length;
		const raw = st.stacks.map((s) => s.live_bytes);
		const other = st.live_heap_bytes.map((v, i) => v - raw.reduce((a, r) => a + r[i], 0));
		const layers = raw.concat([other]);
		const labels = st.stacks.map((s) => stackLabel(s.frames)).concat(['other stacks']);
		const series = [];
		/* uPlot draws in order: the top band first, each lower one over it. */
		for (let k = layers.length - 1; k >= 0; k--) {
			const cum = xs.map((x, i) => layers.slice(0, k + 1).reduce((a, r) => a + r[i], 0));
			const color = k === n ? '#cccccc' : PALETTE[k % PALETTE.length];
			series.push(line(labels[k], color, cum, {
				fill: color, width: 1, paths: uPlot.paths.stepped({ align: 1 }),
				value: (u, v, si, idx) => idx === null ? '-' : fmtBytes(layers[k][idx]),
			}));
		}
		const div = el('div', { class: 'chart' });
		section.append(div);
		plot(div, 'Live bytes of the top stacks (stacked)', xs, series, {});
		const measured = st.stacks.some((s) => s.resident_bytes.some((v) => v !== null));
		if (!measured)
			return;
		const res = st.stacks.map((s, k) => line(labels[k], PALETTE[k % PALETTE.length],
			s.resident_bytes, { paths: () => null, points: { show: true, size: 7 } }));
		const rdiv = el('div', { class: 'chart' });
		section.append(rdiv);
		plot(rdiv, 'Resident bytes of the top stacks (pagemap snapshots)', xs, res, {});
	}

	function kernelChart(p, section) {
		const tl = p.timeline;
		if (!tl.length || tl[0].faults === null) {
			section.append(el('p', { class: 'missing' },
				'No kernel stream for this process: faults, swap-ins and reclaim stalls over time are unknown.'));
			return;
		}
		const xs = tl.map((pt) => seconds(pt.time_ns));
		/* Each point holds counts so far: draw what happened since the previous point. */
		const delta = (key) => tl.map((pt, i) => i ? pt[key] - tl[i - 1][key] : pt[key]);
		const stepped = { paths: uPlot.paths.stepped({ align: -1 }), value: (u, v) => fmtCount(v) };
		const series = [
			line('page faults', PALETTE[0], delta('faults'), stepped),
			line('major faults', PALETTE[2], delta('major_faults'), stepped),
			line('swap-ins', PALETTE[1], delta('swapins'), stepped),
			line('reclaim stalls (ms)', PALETTE[6], delta('reclaim_stall_ns').map((v) => v / 1e6),
				Object.assign({}, stepped, { scale: 'ms', value: (u, v) => v === null ? '-' : v.toFixed(3) })),
		];
		const div = el('div', { class: 'chart' });
		section.append(div);
		plot(div, 'Kernel activity over time (events since the previous point)', xs, series, {
			fmt: fmtCount,
			uplot: { axes: [{ label: 'seconds since start' },
				{ size: 80, values: (u, vals) => vals.map(fmtCount) },
				{ side: 1, scale: 'ms', size: 70, label: 'reclaim ms', grid: { show: false } }] },
		});
	}

	/* The flame graph tree for metric m: nodes with a zero value are left out. */
	function flameTree(p, m) {
		const nodes = p.flame.nodes;
		const objs = new Array(nodes.length);
		for (let i = 0; i < nodes.length; i++) {
			const v = nodes[i][2 + m] || 0;
			if (!v)
				continue;
			const o = { n: i ? frames.name[nodes[i][1]] : 'all', v: v, c: [], f: nodes[i][1] };
			objs[i] = o;
			if (i)
				objs[nodes[i][0]].c.push(o);
		}
		return objs[0] || { n: 'all', v: 0, c: [], f: -1 };
	}

	function flameSection(p, section) {
		const known = p.flame.known;
		const div = el('div', { class: 'flame' });
		const details = el('div', { class: 'details' }, 'hover a frame for details; click to zoom');
		const width = Math.max(600, Math.min(1200, section.clientWidth || 1000));
		const make = window.flamegraph.default || window.flamegraph;
		let metric = 0;
		const chart = make().width(width).cellHeight(18).inverted(true).minFrameSize(1)
			.transitionDuration(250).sort(true).setDetailsElement(details);
		chart.setLabelHandler((d) => {
			const unit = data.metrics[metric].unit;
			const where = d.data.f >= 0 ? frameText(d.data.f) : 'all stacks';
			return where + ': ' + fmtValue(d.data.v, unit) + ' (' +
				(100 * (d.x1 - d.x0)).toFixed(2) + '%)';
		});
		const buttons = el('div', { class: 'metrics' });
		data.metrics.forEach((m, i) => {
			const b = el('button', { type: 'button', onclick: () => {
				metric = i;
				buttons.querySelectorAll('button').forEach((x) => x.classList.remove('on'));
				b.classList.add('on');
				chart.update(flameTree(p, i));
			} }, m.label);
			if (!known[i]) {
				b.disabled = true;
				b.title = 'unknown: this process lacks the stream behind it';
			}
			if (i === 0)
				b.classList.add('on');
			buttons.append(b);
		});
		const search = el('input', { type: 'search', placeholder: 'search function',
			oninput: (e) => {
				const t = e.target.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
				if (t)
					chart.search(t);
				else
					chart.clear();
			} });
		const reset = el('button', { type: 'button', onclick: () => chart.resetZoom() }, 'reset zoom');
		section.append(el('div', { class: 'toolbar' }, buttons, search, reset), details, div);
		d3.select(div).datum(flameTree(p, 0)).call(chart);
	}

	function leaksSection(p, section) {
		if (!p.leaks.length) {
			section.append(el('p', {}, 'No block was live at exit.'));
			return;
		}
		const total = p.leak_records_total;
		const pre = el('pre', { class: 'leaks' });
		p.leaks.forEach((r, i) => {
			const lines = [(i ? '\n' : '') + fmtCount(r.bytes) + ' bytes in ' + fmtCount(r.blocks) +
				' blocks are ' + r.kind + ' in loss record ' + (i + 1) + ' of ' + total];
			r.frames.forEach((f, k) => lines.push('   ' + (k ? 'by ' : 'at ') + frameText(f)));
			pre.append(el('span', { class: 'kind-' + r.kind.split(' ')[0] }, lines.join('\n') + '\n'));
		});
		if (total > p.leaks.length)
			section.append(el('p', {}, (total - p.leaks.length) + ' smaller records not shown.'));
		section.append(pre);
	}

	function perms(prot) {
		return (prot & 1 ? 'r' : '-') + (prot & 2 ? 'w' : '-') + (prot & 4 ? 'x' : '-');
	}

	function mappingsSection(p, section) {
		const byName = new Map(p.mappings.map((m) => [m.name, m]));
		const head = ['address range', 'perm', 'offset', 'mapping', 'kind', 'RSS', 'swap',
			'faults', 'major', 'swap-ins'];
		const rows = [];
		const shown = new Set();
		const figures = (m) => m ? [fmtBytes(m.resident_bytes), fmtBytes(m.swapped_bytes),
			fmtCount(m.faults), fmtCount(m.major_faults), fmtCount(m.swapins)] :
			['', '', '', '', ''];
		const mods = p.modules.slice().sort((a, b) => BigInt(a.start) < BigInt(b.start) ? -1 : 1);
		for (const s of mods) {
			const m = shown.has(s.path) ? null : byName.get(s.path);
			shown.add(s.path);
			rows.push([s.start + '-' + s.end, perms(s.prot), s.offset, s.path, 'file'].concat(figures(m)));
		}
		for (const m of p.mappings) {
			if (shown.has(m.name))
				continue;
			const owner = m.frames.length ? m.name + ' from ' + stackLabel(m.frames) : m.name;
			rows.push(['', '', '', owner, m.kind].concat(figures(m)));
		}
		if (!rows.length) {
			section.append(el('p', { class: 'missing' }, 'No mapping of this process is known.'));
			return;
		}
		section.append(el('table', { class: 'pmap' },
			el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
			el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c)))))));
	}

	/* Nested lists of the process tree, parents by pid. */
	function processTree(procs) {
		const byPid = new Map();
		procs.forEach((p, i) => byPid.set(p.pid, i));
		const children = procs.map(() => []);
		const roots = [];
		procs.forEach((p, i) => {
			const parent = byPid.get(p.ppid);
			if (parent !== undefined && parent !== i)
				children[parent].push(i);
			else
				roots.push(i);
		});
		const list = (ids) => el('ul', {}, ids.map((i) => el('li', {},
			el('a', { href: '#proc-' + i }, procName(procs[i]) + ': ' + procs[i].process.end),
			children[i].length ? list(children[i]) : null)));
		return list(roots);
	}

	function guarded(section, what, fn) {
		try {
			fn();
		} catch (e) {
			section.append(el('p', { class: 'error' }, 'cannot draw ' + what + ': ' + e));
			console.error('memhook report: cannot draw ' + what, e);
		}
	}

	function processSection(p, i) {
		const section = el('section', { id: 'proc-' + i, class: 'process' });
		section.append(el('h2', {}, procName(p)), el('pre', { class: 'summary' }, p.text));
		if (p.missing.length)
			section.append(el('ul', { class: 'missing' }, p.missing.map((m) => el('li', {}, m))));
		const part = (title) => {
			const s = el('div', { class: 'part' }, el('h3', {}, title));
			section.append(s);
			return s;
		};
		app.append(section);
		const mem = part('Memory over time');
		guarded(mem, 'the memory chart', () => memoryChart(p, mem));
		guarded(mem, 'the stacks chart', () => stacksChart(p, mem));
		const kern = part('Kernel activity over time');
		guarded(kern, 'the kernel chart', () => kernelChart(p, kern));
		const flame = part('Flame graph (icicle: callers at the top)');
		guarded(flame, 'the flame graph', () => flameSection(p, flame));
		const leaks = part('Leaks (live at exit), by kind and size');
		guarded(leaks, 'the leaks', () => leaksSection(p, leaks));
		const maps = part('Mappings');
		guarded(maps, 'the mappings', () => mappingsSection(p, maps));
	}

	app.textContent = '';
	app.append(el('h1', {}, 'memhook report'),
		el('p', { class: 'trace' }, 'trace ' + data.trace + '; kernel stream: ' +
			(data.kernel_status || 'not recorded') + (data.truncated ? '; TRUNCATED' : '') +
			(data.events_lost ? '; ' + data.events_lost + ' events lost' : '')));
	if (data.processes.length > 1)
		app.append(el('nav', {}, el('h2', {}, 'Processes'), processTree(data.processes)));
	data.processes.forEach(processSection);
})();
