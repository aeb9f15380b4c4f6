// modelpress dashboard: renders the view the server pushes over server-sent events (/api/stream).
// Each model's block is rebuilt only when its data changed, so charts and focus survive updates.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const rendered = new Map();   // model key -> {json, element}
  const chartView = new Map();  // model key -> {axis: 'size'|'latency', profile}
  const plots = new Map();      // model key -> uPlot instance
  let last = null;

  // ---- formatting -------------------------------------------------------------------------------
  const esc = (text) => String(text ?? '').replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  function bytes(n) {
    if (n == null) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let v = n, u = 0;
    while (Math.abs(v) >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return (u === 0 ? v : v.toFixed(1)) + ' ' + units[u];
  }
  const ms = (v) => v == null ? '–' : (v >= 1000 ? (v / 1000).toFixed(2) + ' s' : Number(v.toPrecision(3)) + ' ms');
  const pct = (v) => v == null ? '–' : (100 * v).toFixed(2) + ' %';
  const pts = (v) => v == null ? '–' : (100 * v).toFixed(2) + ' pt';
  const seconds = (v) => v == null ? '–' : (v >= 120 ? (v / 60).toFixed(1) + ' min' : v.toFixed(1) + ' s');
  const when = (t) => t ? new Date(t).toLocaleString() : '';
  const fileLink = (uri, text) => uri
    ? `<a href="/api/file?uri=${encodeURIComponent(uri)}" title="${esc(uri)}">${esc(text)}</a>` : '';

  // ---- connection -------------------------------------------------------------------------------
  function connect() {
    const source = new EventSource('/api/stream');
    source.onmessage = (message) => {
      let view;
      try { view = JSON.parse(message.data); } catch (e) { return; }
      setConnection(true);
      render(view);
    };
    source.onerror = () => setConnection(false);
  }

  function setConnection(up) {
    const banner = $('connection');
    if (up) {
      banner.textContent = 'Live: updates appear as the events arrive.';
      banner.className = 'banner ok';
    } else {
      banner.textContent = 'Lost the connection to the dashboard server; retrying. The page shows what it had.';
      banner.className = 'banner bad';
    }
  }

  // ---- the whole view -------------------------------------------------------------------------
  function render(view) {
    last = view;
    renderBroker(view.broker);
    renderTotals(view);
    renderMalformed(view.malformed);
    options($('profile-filter'), view.profiles);
    options($('label-filter'), view.labels);
    const main = $('models');
    const keep = new Set();
    let previous = $('empty');
    const toDraw = [];
    for (const model of view.models) {
      const key = model.modelId + '@' + model.version;
      keep.add(key);
      const json = JSON.stringify(model);
      let entry = rendered.get(key);
      if (!entry || entry.json !== json) {
        const element = renderModel(model, key);
        if (entry) {
          const focused = document.activeElement && entry.element.contains(document.activeElement)
            ? document.activeElement.dataset.focus : null;
          entry.element.replaceWith(element);
          if (focused) element.querySelector(`[data-focus="${focused}"]`)?.focus();
        }
        entry = { json, element };
        rendered.set(key, entry);
        toDraw.push([key, model]);
      }
      if (previous.nextElementSibling !== entry.element) previous.after(entry.element);
      previous = entry.element;
    }
    for (const [key, entry] of rendered) {
      if (!keep.has(key)) { entry.element.remove(); rendered.delete(key); plots.get(key)?.destroy(); plots.delete(key); }
    }
    applyFilters();
    toDraw.forEach(([key, model]) => drawChart(key, model)); // once in the page, so they know their width
  }

  function renderBroker(broker) {
    const banner = $('broker');
    if (broker.reachable === false) {
      banner.hidden = false;
      banner.className = 'banner bad';
      banner.textContent = `The Kafka broker (${broker.bootstrapServers}) is unreachable: ${broker.error || 'no answer'}. `
        + 'New events appear once it answers again; what was read before is still shown.';
    } else if (broker.reachable == null) {
      banner.hidden = false;
      banner.className = 'banner';
      banner.textContent = `Checking the Kafka broker (${broker.bootstrapServers})…`;
    } else {
      banner.hidden = true;
    }
  }

  function renderTotals(view) {
    const t = view.totals;
    const items = [
      ['models', t.models], ['results', t.results], ['running', t.running], ['failed', t.failures],
      ['models in the last hour', t.modelsLastHour], ['bytes saved', bytes(t.bytesSaved)],
      ['median time to result', seconds(t.medianEventToResultSeconds)],
    ];
    $('totals').innerHTML = items.map(([name, value]) =>
      `<div data-total="${esc(name)}"><dt>${esc(name)}</dt><dd>${esc(value)}</dd></div>`).join('');
  }

  function renderMalformed(malformed) {
    const note = $('malformed');
    note.hidden = malformed.count === 0;
    note.innerHTML = malformed.count === 0 ? '' : `<span id="malformed-count">${malformed.count}</span> unreadable `
      + `event${malformed.count === 1 ? ' was' : 's were'} skipped; latest: ${esc(malformed.recent[0] || '')}`;
  }

  function options(select, values) {
    const current = select.value;
    const wanted = [''].concat(values);
    const have = Array.from(select.options).map((o) => o.value);
    if (JSON.stringify(have) === JSON.stringify(wanted)) return;
    select.innerHTML = wanted.map((v) => `<option value="${esc(v)}">${v === '' ? 'any' : esc(v)}</option>`).join('');
    select.value = wanted.includes(current) ? current : '';
  }

  // ---- one model --------------------------------------------------------------------------------
  function renderModel(model, key) {
    const article = document.createElement('article');
    article.className = 'model';
    article.dataset.key = key;
    article.dataset.modelId = model.modelId;
    article.dataset.version = model.version;
    article.dataset.status = model.status;
    article.dataset.statuses = [model.status].concat(model.profiles.map((p) => p.status)).join(' ');
    article.dataset.profiles = model.profiles.map((p) => p.profile).join(' ');
    article.dataset.labels = JSON.stringify(Object.entries(model.labels).map(([k, v]) => k + '=' + v));
    const labels = Object.entries(model.labels).map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`).join(' ');
    const running = model.status === 'running';
    const progress = model.percent != null && running
      ? `<progress class="model-progress" max="100" value="${model.percent}" aria-label="progress of ${esc(key)}">${model.percent} %</progress>
         <span class="percent">${model.percent} %</span> <span class="stage">${esc(model.stage || '')}${model.message ? ': ' + esc(model.message) : ''}</span>`
      : '';
    article.innerHTML = `
      <header>
        <h2>${esc(model.modelId)} <span class="small">version ${esc(model.version)}</span></h2>
        <span class="badge ${esc(model.status)} model-status">${esc(model.status)}</span>
        ${labels}
        <span class="small">first seen ${esc(when(model.firstSeen))}</span>
      </header>
      <div>${progress}</div>
      ${model.failures.map(failure).join('')}
      ${model.profiles.length ? profileTable(model) : '<p class="note">No profile has started yet.</p>'}
      ${chartSection(model, key)}`;
    article.querySelectorAll('button[data-axis]').forEach((button) => button.addEventListener('click', () => {
      view(key).axis = button.dataset.axis;
      rerender(key);
    }));
    article.querySelector('select.chart-profile')?.addEventListener('change', (event) => {
      view(key).profile = event.target.value;
      rerender(key);
    });
    return article;
  }

  function rerender(key) {
    const entry = rendered.get(key);
    if (entry) entry.json = ''; // forces a rebuild from the last view
    if (last) render(last);
  }

  function failure(f) {
    return `<div class="failure" data-failure-stage="${esc(f.stage)}"><strong>failed at ${esc(f.stage)}</strong>`
      + `${f.profile ? ' (' + esc(f.profile) + ')' : ''}: <span class="reason">${esc(f.reason)}</span>`
      + ` <span class="small">${f.retryable ? 'retryable: sending the same event again may succeed'
        : 'not retryable: the same event would fail the same way'}; ${esc(when(f.at))}</span></div>`;
  }

  function profileTable(model) {
    const rows = model.profiles.map((p) => {
      const s = p.sizes;
      const size = s ? `${bytes(s.originalBytes)} → ${bytes(s.compressedBytes)}`
        + (s.sizeRatio ? ` <span class="small">(${s.sizeRatio.toFixed(2)}×)</span>` : '') : '–';
      const l = p.latency;
      const latency = l ? (l.originalP50Millis != null
        ? `${ms(l.originalP50Millis)} → ${ms(l.compressedP50Millis)}`
          + (l.speedup ? ` <span class="small">(${l.speedup.toFixed(2)}×)</span>` : '') : '–')
        + `<div class="small where">${esc(l.where)}</div>` : '–';
      const j = p.judgement;
      const judged = j ? (j.measure === 'accuracy'
        ? `top-1 ${pct(j.before)} → ${pct(j.after)}`
        : `mean cosine ${j.after != null ? j.after.toFixed(5) : '–'}`
          + (j.worst != null ? `, worst ${j.worst.toFixed(5)}` : ''))
        + `<div class="small">${esc(j.measure)}, judged on ${esc(j.judgedBy || 'unknown data')}</div>` : '–';
      const status = `<span class="badge ${esc(p.status)}">${esc(p.status)}</span>`
        + (p.status === 'running' && model.percent != null
          ? ` <progress max="100" value="${model.percent}" aria-label="progress of ${esc(p.profile)}">${model.percent} %</progress>` : '')
        + (p.stage && p.status === 'running' ? `<div class="small">${esc(p.stage)}</div>` : '')
        + (p.replayed ? '<div class="small">answered from storage</div>' : '');
      const links = p.links ? [fileLink(p.links.artifact, 'model'), fileLink(p.links.report, 'report.json'),
        fileLink(p.links.reportHtml, 'report.html')].filter(Boolean).join(' · ') : '';
      const choice = p.choice ? `<div class="small">chosen by ${esc(p.choice.by)}`
        + (p.choice.metBudget === false ? ', <span class="failed">budget not met</span>' : '') + '</div>' : '';
      return `<tr data-profile="${esc(p.profile)}" data-status="${esc(p.status)}">
        <td data-label="profile"><strong>${esc(p.profile)}</strong></td>
        <td data-label="status">${status}</td>
        <td data-label="size" class="n size">${size}</td>
        <td data-label="latency p50" class="n latency">${latency}</td>
        <td data-label="judged" class="judged">${judged}</td>
        <td data-label="chain" class="chain">${esc(p.chain || '')}${choice}</td>
        <td data-label="files">${links}${p.failure ? failure(p.failure) : ''}</td></tr>`;
    }).join('');
    return `<div class="wrap"><table class="profiles"><thead><tr><th>profile</th><th>status</th><th>size</th>
      <th>latency p50</th><th>fidelity / accuracy</th><th>chain</th><th>files</th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  // ---- the candidates chart -----------------------------------------------------------------------
  function view(key) {
    if (!chartView.has(key)) chartView.set(key, { axis: 'size', profile: null });
    return chartView.get(key);
  }

  function chartProfile(model, key) {
    const withCandidates = model.profiles.filter((p) => p.candidates.length > 0);
    if (!withCandidates.length) return null;
    const chosen = view(key).profile;
    return withCandidates.find((p) => p.profile === chosen) || withCandidates[0];
  }

  function chartSection(model, key) {
    const profile = chartProfile(model, key);
    if (!profile) return '';
    const v = view(key);
    const choices = model.profiles.filter((p) => p.candidates.length > 0);
    const select = choices.length > 1
      ? `<label>profile <select class="chart-profile" data-focus="profile">${choices.map((p) =>
        `<option ${p.profile === profile.profile ? 'selected' : ''}>${esc(p.profile)}</option>`).join('')}</select></label>`
      : `<span class="small">profile ${esc(profile.profile)}</span>`;
    const rows = profile.candidates.map((c) => `<tr class="candidate${c.chosen ? ' chosen' : ''}${c.pareto ? ' pareto' : ''}">
      <td>${c.chosen ? 'chosen' : c.pareto ? 'Pareto' : ''}</td><td><code>${esc(c.chain)}</code></td><td>${esc(c.outcome)}</td>
      <td class="n">${c.outcome === 'measured' ? bytes(c.bytes) : '–'}</td><td class="n">${pts(c.drop)}</td>
      <td class="n">${ms(c.latencyMillis)}</td>
      <td class="small">${esc(c.note || '')}</td></tr>`).join('');
    return `<section class="chart" aria-label="candidates the planner tried">
      <div class="controls"><strong>Candidates</strong> ${select}
        <button type="button" data-axis="size" data-focus="size" aria-pressed="${v.axis === 'size'}">size vs drop</button>
        <button type="button" data-axis="latency" data-focus="latency" aria-pressed="${v.axis === 'latency'}">latency vs drop</button>
        <span class="legend-key"><span style="color:#8c959f">● measured</span><span style="color:#0969da">● Pareto set</span>
        <span style="color:#d1242f">● chosen</span></span></div>
      <div class="plot" data-axis="${esc(v.axis)}"></div>
      <details><summary>every candidate (${profile.candidates.length})</summary><div class="wrap"><table class="candidates">
        <thead><tr><th></th><th>chain</th><th>outcome</th><th>size</th><th>drop</th><th>latency</th><th>why</th></tr></thead>
        <tbody>${rows}</tbody></table></div></details>
      <p class="small explanation">${esc(profile.choice?.explanation || '')}
        ${profile.choice?.dropMeasure ? ' Drop is ' + esc(profile.choice.dropMeasure) + '.' : ''}</p>
    </section>`;
  }

  function drawChart(key, model) {
    plots.get(key)?.destroy();
    plots.delete(key);
    const entry = rendered.get(key);
    const holder = entry?.element.querySelector('.plot');
    const profile = chartProfile(model, key);
    if (!holder || !profile) return;
    const axis = view(key).axis;
    const xOf = (c) => axis === 'size' ? c.bytes / 1000 : c.latencyMillis;
    const points = profile.candidates.filter((c) => c.outcome === 'measured' && c.drop != null && xOf(c) != null)
      .sort((a, b) => xOf(a) - xOf(b));
    holder.dataset.points = String(points.length);
    holder.dataset.pareto = String(points.filter((c) => c.pareto).length);
    holder.dataset.chosen = String(points.filter((c) => c.chosen).length);
    if (!points.length || typeof uPlot === 'undefined') {
      holder.textContent = points.length ? 'the chart library did not load' : `no candidate has a ${axis} figure`;
      holder.classList.add('note');
      return;
    }
    const y = (keep) => points.map((c) => keep(c) ? 100 * c.drop : null);
    const data = [points.map(xOf), y((c) => !c.pareto && !c.chosen), y((c) => c.pareto && !c.chosen), y((c) => c.chosen)];
    const dots = (colour, size, shape) => ({
      stroke: colour, fill: colour, width: 0, paths: () => null,
      points: { show: true, size, stroke: colour, fill: colour, width: shape ? 3 : 1 },
    });
    const width = Math.max(260, Math.min(holder.clientWidth || 600, 900));
    plots.set(key, new uPlot({
      width, height: 240,
      scales: { x: { time: false }, y: { auto: true, range: (u, min, max) => [0, Math.max(max * 1.15, 0.5)] } },
      axes: [{ label: axis === 'size' ? 'size (KB)' : 'p50 latency (ms)' }, { label: 'drop (points)' }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, Object.assign({ label: 'measured' }, dots('#8c959f', 9)),
        Object.assign({ label: 'Pareto set' }, dots('#0969da', 11)), Object.assign({ label: 'chosen' }, dots('#d1242f', 15, true))],
    }, data, holder));
  }

  // ---- filters ------------------------------------------------------------------------------------
  function applyFilters() {
    const search = $('search').value.trim().toLowerCase();
    const status = $('status-filter').value;
    const profile = $('profile-filter').value;
    const label = $('label-filter').value;
    let shown = 0;
    for (const { element } of rendered.values()) {
      const d = element.dataset;
      const visible = (!search || (d.modelId + ' ' + d.version).toLowerCase().includes(search))
        && (!status || d.statuses.split(' ').includes(status))
        && (!profile || d.profiles.split(' ').includes(profile))
        && (!label || JSON.parse(d.labels).includes(label));
      element.hidden = !visible;
      element.querySelectorAll('tr[data-profile]').forEach((row) => {
        row.hidden = !!profile && row.dataset.profile !== profile;
      });
      if (visible) shown++;
    }
    const empty = $('empty');
    const total = rendered.size;
    if (total === 0) {
      empty.hidden = false;
      empty.textContent = 'No model has been seen yet: nothing has been published on the result, benchmark, progress '
        + 'or failure topics (since the earliest record they keep). Models appear here as soon as the compressor works on them.';
    } else if (shown === 0) {
      empty.hidden = false;
      empty.textContent = `None of the ${total} models matches the filters.`;
    } else {
      empty.hidden = true;
    }
    $('shown').textContent = total ? `${shown} of ${total} shown` : '';
  }

  for (const id of ['search', 'status-filter', 'profile-filter', 'label-filter']) {
    $(id).addEventListener('input', applyFilters);
    $(id).addEventListener('change', applyFilters);
  }
  // charts are drawn to their holder's width: draw them again when it changes (a phone turned, a window resized)
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (last) { rendered.forEach((entry) => { entry.json = ''; }); render(last); } }, 250);
  });
  connect();
})();
