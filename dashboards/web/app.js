/*
 * Space HUB creator dashboard: vanilla JS + uPlot, no build step. Served by the API at / (REST on the same
 * origin); live updates come from the WebSocket gateway's plain protocol. Every string from the server
 * is written with textContent (never innerHTML), and the token stays in this tab's sessionStorage.
 *
 * Two views, chosen by the URL hash: the overview of one channel (#/) and one stream's report
 * (#/stream/{platform}/{channelId}/{streamId}).
 */
(function () {
  'use strict';

  var KEY_TOKEN = 'spacehub.token';
  var KEY_GATEWAY = 'spacehub.gateway';
  var HISTORY_MS = 3 * 3600 * 1000;
  var MAX_ALERTS = 50;
  var COMPARE = 10;
  /** A live card or stream page re-reads its figures at most this often while windows arrive. */
  var REFRESH_MS = 15000;
  var DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  var PLATFORMS = { twitch: 'Twitch', youtube: 'YouTube' };
  /** How long until a new stream shows up: a 1-minute window closes after the processors' lateness allowance. */
  var FIRST_POINT = 'about 3 minutes';
  /** The callback's problem slugs (api/routes/connections.routes.ts), in words. */
  var CONNECT_ERRORS = {
    'authorization-denied': 'You declined on the platform\'s page (or it refused), so nothing was connected.',
    'oauth-browser-mismatch': 'This connect link was started in another browser, so it was refused and nothing was connected. Start again with the Connect button here.',
    'oauth-headless-state': 'This connect link belongs to a command-line client, so it cannot be finished in a browser. Start again with the Connect button here.',
    unauthorized: 'The connect link was unknown, already used or expired (links last 10 minutes). Start again with the Connect button.',
    forbidden: 'This connect link was started by another Space HUB user, so nothing was connected.',
  };

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    token: null, gateway: null, connections: [], channels: [], liveKeys: {}, channel: null,
    xs: [], avg: [], peak: [], ws: null, retry: 0, closed: false,
    live: null, liveTimer: null, stream: null, refreshAt: {}, refreshTimer: {},
  };
  var charts = {};

  // ---------------------------------------------------------------- helpers
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(node) { node.textContent = ''; return node; }
  function fmtNum(v, digits) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits || 0 });
  }
  function fmtTime(iso) { return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '–'; }
  function fmtClock(ms) { return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }); }
  function fmtDuration(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (!h && !m) return '< 1 min';
    return h ? h + ' h ' + m + ' min' : m + ' min';
  }
  function platformName(p) { return PLATFORMS[p] || p; }
  function defaultGateway() {
    var q = new URLSearchParams(location.search).get('gateway');
    if (q) return q;
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.hostname || '127.0.0.1') + ':8081/ws';
  }
  function channelKey(c) { return c.platform + ':' + c.channelId; }
  function channelPath(c) { return '/v1/channels/' + encodeURIComponent(c.platform) + '/' + encodeURIComponent(c.channelId); }
  function streamHash(c, streamId) { return '#/stream/' + encodeURIComponent(c.platform) + '/' + encodeURIComponent(c.channelId) + '/' + encodeURIComponent(streamId); }
  function tile(parent, label, value, delta) {
    var box = el('div', null, 'tile');
    box.appendChild(el('dt', label));
    var dd = el('dd', value);
    if (delta) dd.appendChild(delta);
    box.appendChild(dd);
    parent.appendChild(box);
    return box;
  }
  function emptyState(node, headline, sentence) {
    clear(node);
    node.appendChild(el('strong', headline));
    node.appendChild(document.createTextNode(sentence));
    node.hidden = false;
  }
  /** "▲ 12 % vs. the average of 10 previous streams", or nothing when there is no average to compare with. */
  function delta(value, average, count) {
    if (average === null || average === undefined || !(average > 0) || value === null || value === undefined) return null;
    var pct = Math.round(((value - average) / average) * 100);
    var text = pct === 0 ? '= your average' : (pct > 0 ? '▲ ' : '▼ ') + Math.abs(pct) + ' % vs. average of ' + count + ' previous';
    return el('span', text, 'delta ' + (pct > 0 ? 'up' : pct < 0 ? 'down' : ''));
  }

  // ---------------------------------------------------------------- REST
  function api(path, opts) {
    opts = opts || {};
    return fetch(path, {
      method: opts.method || 'GET',
      credentials: 'same-origin',
      headers: { Authorization: 'Bearer ' + state.token, Accept: 'application/json' },
    }).then(function (res) {
      if (res.status === 401) { logout('The token was refused. Log in again.'); throw new Error('unauthorized'); }
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { var err = new Error(body.detail || body.title || ('HTTP ' + res.status)); err.status = res.status; throw err; }
        return body;
      });
    });
  }
  function showError(target) {
    return function (err) { if (err.message !== 'unauthorized') { clear(target).appendChild(el('span', err.message, 'error')); } };
  }

  // ---------------------------------------------------------------- notices (connect results, disconnects)
  function notice(kind, text) {
    var n = $('notice');
    n.className = 'notice ' + kind;
    n.textContent = text;
    n.hidden = !text;
  }
  /** The OAuth callback sends the browser back to /?connected=<platform> or /?connect_error=<code>. */
  function takeConnectResult() {
    var q = new URLSearchParams(location.search);
    var ok = q.get('connected'), bad = q.get('connect_error');
    if (!ok && !bad) return;
    if (ok) notice('ok', platformName(ok) + ' channel connected. Its first figures appear within a few minutes, once ingest has polled it.');
    else notice('error', CONNECT_ERRORS[bad] || 'Connecting failed (' + bad + '). Nothing was connected; try again with the Connect button.');
    q.delete('connected'); q.delete('connect_error');
    var rest = q.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }

  // ---------------------------------------------------------------- login
  function login(token, gateway) {
    state.token = token;
    state.gateway = gateway;
    return loadChannels().then(function () {
      sessionStorage.setItem(KEY_TOKEN, token);
      sessionStorage.setItem(KEY_GATEWAY, gateway);
      $('login').hidden = true;
      $('app').hidden = false;
      $('logout').hidden = false;
      connectFeed();
      loadAlertHistory();
      loadCreator();
      loadQuota();
      route();
    });
  }

  /**
   * The caller's connections; channels live in the last 10 minutes (one cheap summary call) are marked,
   * and the first live one is opened by default rather than an offline channel.
   */
  function loadChannels() {
    var tenMin = new Date(Date.now() - 10 * 60000).toISOString();
    return Promise.all([
      api('/v1/connections'),
      api('/v1/creators/me/summary?from=' + encodeURIComponent(tenMin)).catch(function () { return { channels: [] }; }),
    ]).then(function (r) {
      state.connections = r[0].connections || [];
      state.liveKeys = {};
      (r[1].channels || []).forEach(function (c) { if (c.liveMinutes > 0) state.liveKeys[channelKey(c)] = c.avgViewers || 1; });
      var seen = {};
      state.channels = state.connections.filter(function (c) {
        var k = channelKey(c);
        if (c.status === 'revoked' || seen[k]) return false;
        seen[k] = true;
        return true;
      });
      state.channels.sort(function (a, b) { return (state.liveKeys[channelKey(b)] ? 1 : 0) - (state.liveKeys[channelKey(a)] ? 1 : 0); });
      var select = clear($('channel'));
      state.channels.forEach(function (c) {
        var o = el('option', (state.liveKeys[channelKey(c)] ? '● LIVE · ' : '') + c.displayName + ' (' + platformName(c.platform) + ')');
        o.value = channelKey(c);
        select.appendChild(o);
      });
      renderConnections();
      var keep = state.channel && state.channels.find(function (c) { return channelKey(c) === channelKey(state.channel); });
      if (!state.channels.length) { state.channel = null; renderNoChannels(); }
      else if (keep) select.value = channelKey(keep);
      else state.channel = null;
    });
  }

  function logout(message) {
    state.closed = true;
    if (state.ws) state.ws.close(1000);
    sessionStorage.removeItem(KEY_TOKEN);
    state.token = null;
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    setConnState('idle', 'live feed off');
  }

  // ---------------------------------------------------------------- routing
  function parseHash() {
    var m = /^#\/stream\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(location.hash);
    if (!m) return null;
    try { return { platform: decodeURIComponent(m[1]), channelId: decodeURIComponent(m[2]), streamId: decodeURIComponent(m[3]) }; } catch (e) { return null; }
  }
  function route() {
    if (!state.token) return;
    var s = parseHash();
    var channel = s && state.channels.find(function (c) { return c.platform === s.platform && c.channelId === s.channelId; });
    $('view-stream').hidden = !channel;
    $('view-overview').hidden = !!channel;
    if (channel) {
      if (!state.channel || channelKey(state.channel) !== channelKey(channel)) { state.channel = channel; $('channel').value = channelKey(channel); }
      openStream(channel, s.streamId);
      return;
    }
    state.stream = null;
    if (!state.channel && state.channels.length) state.channel = state.channels[0];
    if (state.channel) { $('channel').value = channelKey(state.channel); selectChannel(state.channel); }
    resizeCharts();
  }
  window.addEventListener('hashchange', function () {
    route();
    // Keyboard and screen-reader users land on the new view's heading.
    var target = $('view-stream').hidden ? $('app') : $('stream-title');
    target.focus();
  });

  // ---------------------------------------------------------------- channel overview
  function selectChannel(c) {
    state.channel = c;
    state.xs = []; state.avg = []; state.peak = [];
    state.live = null;
    var base = channelPath(c);
    var from = new Date(Date.now() - HISTORY_MS).toISOString();
    stopLiveTimer();
    clear($('live-body')).appendChild(el('p', 'Loading…', 'muted'));
    api(base).then(function (v) { if (state.channel === c) { renderStatus(v); loadLive(c, v); } }).catch(showError($('status')));
    api(base + '/metrics?granularity=1m&from=' + encodeURIComponent(from)).then(function (series) {
      if (state.channel !== c) return;
      (series.points || []).forEach(function (p) { addPoint(Date.parse(p.start) / 1000, p.avgViewers, p.peakViewers); });
      drawLive();
    }).catch(showError($('chart-empty')));
    loadSessions(c);
    api(base + '/recommendations?count=5').then(renderRecommendations).catch(function (err) {
      var list = clear($('recommendations'));
      var text = err.status === 404 ? 'Recommendations appear once a model is trained: npm start trains one on first start, or run `spacehub train`.'
        : err.status === 422 ? 'Not enough history for this channel yet: the best slots appear after a few weeks of streams. ' + err.message
          : err.message;
      list.appendChild(el('li', text, 'muted'));
    });
  }

  function loadSessions(c) {
    return api(channelPath(c) + '/sessions?limit=20').then(function (body) { if (state.channel === c) renderSessions(c, body.sessions || []); })
      .catch(showError($('sessions').tBodies[0]));
  }

  function renderNoChannels() {
    clear($('status')).appendChild(el('span', 'No connected channels yet: use Connect Twitch or Connect YouTube below.', 'muted'));
    var body = clear($('live-body'));
    var p = el('p', null, 'empty-state');
    emptyState(p, 'Connect a channel to begin.', ' Space HUB starts polling it right away; its first minute of figures appears ' + FIRST_POINT + ' after it goes live.');
    body.appendChild(p);
    drawLive();
    renderSessions(null, []);
  }

  function renderStatus(v) {
    var s = clear($('status'));
    s.appendChild(el('span', v.live ? 'LIVE' : 'offline', v.live ? 'pill live' : 'pill'));
    if (!v.lastWindowStart) { s.appendChild(el('span', 'no data from this channel in the last 7 days yet', 'muted')); return; }
    s.appendChild(el('span', 'viewers ' + fmtNum(v.viewers && v.viewers.current), 'viewers-now'));
    s.appendChild(el('span', 'followers ' + fmtNum(v.followers && v.followers.current) + ' (+' + fmtNum(v.followers && v.followers.growth24h) + ' in 24 h)'));
    if (v.stale) {
      var ago = Math.round((Date.now() - Date.parse(v.lastWindowStart)) / 60000);
      s.appendChild(el('span', 'newest data ' + fmtClock(Date.parse(v.lastWindowStart)) + ' (' + ago + ' min ago): the pipeline may be behind', 'pill warn'));
    }
  }

  /** The live card: the open session's running figures (GET …/sessions/{streamId} computes them from its closed windows). */
  function loadLive(c, view) {
    var body = $('live-body');
    if (!view.live || !view.session || view.session.status !== 'live') {
      clear(body);
      state.live = null;
      var p = el('p', null, 'empty-state');
      var last = view.session ? ' The last stream, "' + (view.session.title || 'untitled') + '", ended ' + fmtTime(view.session.endedAt) + '.' : '';
      emptyState(p, c.displayName + ' is offline.', ' When a stream starts, this card shows its running figures (duration, viewers, hours watched, followers, chat) ' + FIRST_POINT + ' later.' + last);
      body.appendChild(p);
      stopLiveTimer();
      return;
    }
    api(channelPath(c) + '/sessions/' + encodeURIComponent(view.session.streamId) + '?compare=' + COMPARE).then(function (r) {
      if (state.channel !== c) return;
      // A window may have arrived over the feed while this was loading: its viewer count is the newer one.
      var before = state.live && state.live.channel === c ? state.live : null;
      var prev = before ? before.viewersNow : null;
      // …and a running summary from the feed is never older than what this read found.
      if (before && before.fed && before.fed.streamId === r.session.streamId) Object.assign(r.session, before.fed.figures);
      state.live = { channel: c, report: r, viewersNow: prev !== null && prev !== undefined ? prev : view.viewers && view.viewers.current, fed: before && before.fed, paidNow: before ? before.paidNow : undefined };
      renderLive();
      patchLiveRow();
    }).catch(showError(body));
  }

  function renderLive() {
    var l = state.live;
    if (!l) return;
    var s = l.report.session, avg = l.report.comparison.average, n = l.report.comparison.count;
    var body = clear($('live-body'));
    var head = el('div', null, 'live-head');
    head.appendChild(el('span', 'LIVE', 'pill live'));
    head.appendChild(el('span', s.title || 'Untitled stream', 'title'));
    if (s.category) head.appendChild(el('span', s.category, 'muted'));
    head.appendChild(el('span', 'since ' + fmtClock(Date.parse(s.startedAt)), 'muted'));
    var link = el('a', 'Open the stream report →');
    link.href = streamHash(l.channel, s.streamId);
    head.appendChild(link);
    body.appendChild(head);
    var tiles = el('dl', null, 'tiles');
    tile(tiles, 'Duration so far', fmtDuration((Date.now() - Date.parse(s.startedAt)) / 1000)).id = 'live-duration';
    tile(tiles, 'Viewers now', fmtNum(l.viewersNow)).id = 'live-viewers';
    tile(tiles, 'Peak', fmtNum(s.peakViewers), delta(s.peakViewers, avg && avg.peakViewers, n)).id = 'live-peak';
    tile(tiles, 'Average', fmtNum(s.avgViewers), delta(s.avgViewers, avg && avg.avgViewers, n)).id = 'live-average';
    tile(tiles, 'Hours watched', fmtNum(s.hoursWatched, 1)).id = 'live-hours';
    tile(tiles, 'Followers gained', '+' + fmtNum(s.followersGained)).id = 'live-followers';
    tile(tiles, 'Chat messages', fmtNum(s.chatMessages)).id = 'live-chat';
    var paid = paidSubscribersFigure(l);
    tile(tiles, 'Paid subscribers', paid.value, paid.reason ? el('span', paid.reason, 'delta reason') : null).id = 'live-paid-subscribers';
    body.appendChild(tiles);
    startLiveTimer();
  }

  /**
   * Paid subscribers now (the newest window on the feed) and gained this stream; "—" with the reason
   * when the figure is not read (null, never 0): YouTube has none, a Twitch grant without
   * channel:read:subscriptions needs a reconnect (GET /v1/connections needsReconnectFor).
   */
  function paidSubscribersFigure(l) {
    var gained = l.report.session.paidSubscribersGained;
    var signed = typeof gained === 'number' ? (gained >= 0 ? '+' : '') + fmtNum(gained) : null;
    if (typeof l.paidNow === 'number') return { value: fmtNum(l.paidNow) + (signed ? ' (' + signed + ' this stream)' : '') };
    // Not on the feed yet: what the stream gained so far, from its closed windows.
    if (signed && l.paidNow === undefined) return { value: signed + ' this stream' };
    var c = l.channel;
    if (c.platform !== 'twitch') return { value: '—', reason: 'Twitch only: YouTube has no paid-subscriber figure' };
    if ((c.needsReconnectFor || []).indexOf('subscribers') >= 0) return { value: '—', reason: 'not granted: reconnect the channel to allow channel:read:subscriptions' };
    return { value: '—', reason: 'not read yet' };
  }

  // The duration ticks in the browser; the other figures follow the closed windows.
  function startLiveTimer() {
    if (state.liveTimer) return;
    state.liveTimer = setInterval(function () {
      var l = state.live, box = $('live-duration');
      if (!l || !box) return stopLiveTimer();
      box.querySelector('dd').textContent = fmtDuration((Date.now() - Date.parse(l.report.session.startedAt)) / 1000);
    }, 5000);
  }
  function stopLiveTimer() { if (state.liveTimer) clearInterval(state.liveTimer); state.liveTimer = null; }

  function sessionCells(x) {
    return [x.status, x.title || '–', fmtDuration(x.durationSeconds), fmtNum(x.peakViewers), fmtNum(x.avgViewers), fmtNum(x.hoursWatched, 1), '+' + fmtNum(x.followersGained), fmtNum(x.chatMessages)];
  }

  function renderSessions(c, sessions) {
    var tb = clear($('sessions').tBodies[0]);
    sessions.forEach(function (x) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-stream', x.streamId);
      var td = el('td');
      var a = el('a', fmtTime(x.startedAt));
      a.href = streamHash(c, x.streamId);
      a.setAttribute('aria-label', 'Report of the stream of ' + fmtTime(x.startedAt) + (x.title ? ', ' + x.title : ''));
      td.appendChild(a);
      tr.appendChild(td);
      sessionCells(x).forEach(function (t, i) { var cell = el('td', t, i === 1 ? 'wrap' : ''); if (i === 0 && t === 'live') { cell.textContent = ''; cell.appendChild(el('span', 'LIVE', 'pill live')); } tr.appendChild(cell); });
      tb.appendChild(tr);
    });
    if (!tb.rows.length) {
      var cell = el('td', null, 'wrap');
      cell.colSpan = 9;
      var p = el('p', null, 'empty-state');
      emptyState(p, 'No streams in the last 30 days.', ' Each stream appears here when it starts, with figures that update while it runs; open one for its full report.');
      cell.appendChild(p);
      tb.appendChild(el('tr')).appendChild(cell);
    }
    patchLiveRow();
  }

  /** The open stream's row shows the live card's running figures (the stored row is final only at the end). */
  function patchLiveRow() {
    var l = state.live;
    if (!l) return;
    var row = document.querySelector('#sessions tr[data-stream="' + CSS.escape(l.report.session.streamId) + '"]');
    if (!row) return;
    var s = Object.assign({}, l.report.session, { durationSeconds: (Date.now() - Date.parse(l.report.session.startedAt)) / 1000 });
    sessionCells(s).slice(2).forEach(function (t, i) { row.cells[i + 3].textContent = t; });
  }

  function renderRecommendations(body) {
    var list = clear($('recommendations'));
    (body.slots || []).forEach(function (s) {
      var day = DAYS[Math.floor(s.hourOfWeek / 24)], hour = String(s.hourOfWeek % 24).padStart(2, '0');
      var expected = s.medianViewers !== undefined ? s.medianViewers : s.expectedViewers;
      var range = s.low !== undefined && s.high !== undefined ? ' (' + fmtNum(s.low) + '–' + fmtNum(s.high) + ')' : '';
      var chance = typeof s.bestChance === 'number' ? ', ' + Math.round(s.bestChance * 100) + ' % chance to be your best hour of the week' : '';
      list.appendChild(el('li', day + ' ' + hour + ':00 UTC — about ' + fmtNum(expected) + ' viewers' + range + chance + ', next ' + fmtTime(s.startsAt)));
    });
    if (!list.children.length) list.appendChild(el('li', 'The model ranked no slot for this channel yet.', 'muted'));
  }

  // ---------------------------------------------------------------- cross-platform view
  function loadCreator() {
    var days = Number($('creator-range').value);
    var from = new Date(Date.now() - days * 86400000).toISOString();
    return api('/v1/creators/me/summary?from=' + encodeURIComponent(from)).then(renderCreator).catch(showError($('creator-totals')));
  }

  // ---------------------------------------------------------------- YouTube quota (issue 18.3)
  var QUOTA_PURPOSES = { goLive: 'Go-live detection', liveRefresh: 'Live viewers (50 streams a unit)', chat: 'Chat sampling (5 units a read)', subscribers: 'Subscriber counts' };
  function loadQuota() {
    return api('/v1/platforms/youtube/quota').then(renderQuota).catch(showError($('quota-totals')));
  }
  function fmtInterval(s) {
    if (s === null || s === undefined) return '–';
    return s < 120 ? fmtNum(s) + ' s' : s < 7200 ? fmtNum(s / 60, 1) + ' min' : fmtNum(s / 3600, 1) + ' h';
  }
  function renderQuota(q) {
    var totals = clear($('quota-totals'));
    tile(totals, 'Units used', fmtNum(q.usedUnits) + ' of ' + fmtNum(q.budgetUnits));
    tile(totals, 'Resets', new Date(q.resetsAt).toLocaleTimeString());
    tile(totals, 'Creators (live)', q.creators === null ? '–' : fmtNum(q.creators) + ' (' + fmtNum(q.live) + ')');
    tile(totals, 'Chat sampling', q.chatSamplingRate === null ? '–' : (q.chatSampled ? 'sampled: ' : 'full: ') + fmtNum(q.chatSamplingRate * 100, 1) + ' %').title =
      'Planned chat reads / reads at the full rate. YouTube chat figures below 100 % are sampled, not scaled up.';
    var tb = clear($('quota-purposes').tBodies[0]);
    Object.keys(QUOTA_PURPOSES).forEach(function (k) {
      var p = q.purposes[k], tr = document.createElement('tr');
      tr.appendChild(el('td', QUOTA_PURPOSES[k]));
      tr.appendChild(el('td', fmtNum(p.spentUnits)));
      tr.appendChild(el('td', p.plannedUnits === null ? '–' : fmtNum(p.plannedUnits)));
      tr.appendChild(el('td', fmtInterval(p.intervalSeconds)));
      tb.appendChild(tr);
    });
  }

  function renderCreator(sum) {
    var t = sum.totals, totals = clear($('creator-totals'));
    var liveNow = Object.keys(state.liveKeys).length;
    tile(totals, 'Channels live now', liveNow + ' of ' + t.channels);
    tile(totals, 'Peak concurrent viewers', fmtNum(t.peakConcurrentViewers)).title = 'Highest per-minute sum over your live channels';
    tile(totals, 'Average concurrent viewers', fmtNum(t.avgConcurrentViewers));
    tile(totals, 'Hours watched', fmtNum(t.hoursWatched, 1));
    tile(totals, 'Followers gained', '+' + fmtNum(t.followersGained));
    tile(totals, 'Chat messages', fmtNum(t.chatMessages));
    tile(totals, 'Streams', fmtNum(t.sessions));
    var tb = clear($('creator-channels').tBodies[0]);
    var channels = (sum.channels || []).slice().sort(function (a, b) { return b.hoursWatched - a.hoursWatched; });
    channels.forEach(function (c) {
      var tr = document.createElement('tr');
      var name = el('td');
      name.appendChild(el('span', platformName(c.platform), 'pill ' + c.platform));
      name.appendChild(document.createTextNode(' ' + c.displayName));
      tr.appendChild(name);
      var hours = el('td', fmtNum(c.hoursWatched, 1));
      var share = t.hoursWatched > 0 ? c.hoursWatched / t.hoursWatched : 0;
      var bar = el('span', null, 'share');
      bar.style.width = Math.round(share * 120) + 'px';
      bar.setAttribute('aria-hidden', 'true');
      hours.appendChild(bar);
      hours.appendChild(el('span', ' ' + Math.round(share * 100) + ' %', 'muted'));
      tr.appendChild(hours);
      [fmtNum(c.peakViewers), fmtNum(c.avgViewers), '+' + fmtNum(c.followersGained), fmtNum(c.chatMessages), fmtNum(c.sessions)].forEach(function (x) { tr.appendChild(el('td', x)); });
      tb.appendChild(tr);
    });
    if (!channels.length) {
      var cell = el('td', 'Connect a Twitch or YouTube channel: their totals appear here side by side, and together above.', 'muted wrap');
      cell.colSpan = 7;
      tb.appendChild(el('tr')).appendChild(cell);
    }
  }

  // ---------------------------------------------------------------- accounts: connect / disconnect
  function renderConnections() {
    var list = clear($('connections'));
    state.connections.filter(function (c) { return c.status !== 'revoked'; }).forEach(function (c) {
      var li = el('li');
      li.setAttribute('data-connection', c.connectionId);
      li.appendChild(el('span', platformName(c.platform), 'pill ' + c.platform));
      var name = el('span', c.displayName, 'name');
      name.appendChild(el('span', ' @' + c.login, 'muted'));
      li.appendChild(name);
      if (c.status === 'reauth_required') {
        li.appendChild(el('span', 'needs re-authorisation', 'pill warn'));
        var again = el('button', 'Reconnect ' + platformName(c.platform));
        again.type = 'button';
        again.addEventListener('click', function () { startConnect(c.platform, again); });
        li.appendChild(again);
      } else li.appendChild(el('span', 'connected', 'muted'));
      var b = el('button', 'Disconnect', 'ghost');
      b.type = 'button';
      b.setAttribute('aria-label', 'Disconnect ' + c.displayName + ' (' + platformName(c.platform) + ')');
      b.addEventListener('click', function () { confirmDisconnect(c); });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (!list.children.length) list.appendChild(el('li', 'No account connected yet. Connect one: you sign in on the platform\'s own page and come back here.', 'muted'));
  }

  /** The authorize call sets the cookie that binds the flow to this browser; then the platform's page takes over. */
  function startConnect(platform, button) {
    if (button) button.disabled = true;
    notice('info', 'Opening ' + platformName(platform) + '…');
    api('/v1/auth/' + encodeURIComponent(platform) + '/authorize').then(function (body) {
      window.location.assign(body.url);
    }).catch(function (err) {
      if (button) button.disabled = false;
      if (err.message !== 'unauthorized') notice('error', 'Could not start connecting ' + platformName(platform) + ': ' + err.message);
    });
  }

  function confirmDisconnect(c) {
    var dlg = $('confirm');
    $('confirm-title').textContent = 'Disconnect ' + c.displayName + '?';
    $('confirm-text').textContent = 'Space HUB stops polling this ' + platformName(c.platform) + ' channel and revokes its token. Its history is hidden until you connect it again.';
    dlg.returnValue = '';
    dlg.onclose = function () {
      if (dlg.returnValue !== 'ok') return;
      api('/v1/connections/' + encodeURIComponent(c.connectionId), { method: 'DELETE' }).then(function () {
        notice('ok', c.displayName + ' (' + platformName(c.platform) + ') was disconnected.');
        if (state.channel && channelKey(state.channel) === channelKey(c)) state.channel = null;
        return loadChannels().then(function () { loadCreator(); route(); });
      }).catch(function (err) { if (err.message !== 'unauthorized') notice('error', 'Could not disconnect ' + c.displayName + ': ' + err.message); });
    };
    dlg.showModal();
  }

  // ---------------------------------------------------------------- stream report page
  function openStream(c, streamId) {
    state.stream = { channel: c, streamId: streamId };
    $('stream-title').textContent = 'Loading the stream…';
    clear($('stream-meta'));
    clear($('stream-kpis'));
    return loadStream();
  }

  function loadStream() {
    var s = state.stream;
    if (!s) return Promise.resolve();
    return api(channelPath(s.channel) + '/sessions/' + encodeURIComponent(s.streamId) + '?compare=' + COMPARE).then(function (r) {
      if (state.stream !== s) return;
      renderStream(s.channel, r);
    }).catch(function (err) {
      if (err.message === 'unauthorized') return;
      $('stream-title').textContent = err.status === 404 ? 'This stream is not in Space HUB' : 'Could not load the stream';
      $('stream-meta').textContent = err.status === 404 ? 'It may be older than the data kept, or from another channel.' : err.message;
    });
  }

  function renderStream(c, r) {
    var s = r.session, cmp = r.comparison, avg = cmp.average, n = cmp.count, live = s.status === 'live';
    var title = $('stream-title');
    clear(title);
    if (live) { title.appendChild(el('span', 'LIVE', 'pill live')); title.appendChild(document.createTextNode(' ')); }
    title.appendChild(document.createTextNode(s.title || 'Untitled stream'));
    $('stream-meta').textContent = c.displayName + ' on ' + platformName(c.platform) + (s.category ? ' · ' + s.category : '') + ' · ' +
      fmtTime(s.startedAt) + (s.endedAt ? ' – ' + fmtClock(Date.parse(s.endedAt)) : ' – now (figures so far)');
    var k = clear($('stream-kpis'));
    tile(k, live ? 'Duration so far' : 'Duration', fmtDuration(s.durationSeconds), delta(s.durationSeconds, avg && avg.durationSeconds, n));
    tile(k, 'Peak viewers', fmtNum(s.peakViewers), delta(s.peakViewers, avg && avg.peakViewers, n));
    var startMs = Date.parse(s.startedAt);
    tile(k, 'Peak moment', r.peak ? fmtClock(Date.parse(r.peak.at)) : '–', r.peak ? el('span', fmtDuration((Date.parse(r.peak.at) - startMs) / 1000) + ' in', 'delta') : null).id = 'stream-peak';
    tile(k, 'Average viewers', fmtNum(s.avgViewers), delta(s.avgViewers, avg && avg.avgViewers, n));
    tile(k, 'Hours watched', fmtNum(s.hoursWatched, 1), delta(s.hoursWatched, avg && avg.hoursWatched, n));
    tile(k, 'Followers gained', '+' + fmtNum(s.followersGained), delta(s.followersGained, avg && avg.followersGained, n));
    // Sampled chat (YouTube under the quota planner) is flagged with its rate, never scaled up.
    var chatRate = (r.points || []).reduce(function (m, p) { return typeof p.chatSamplingRate === 'number' ? Math.min(m, p.chatSamplingRate) : m; }, 1);
    var chatTile = tile(k, chatRate < 1 ? 'Chat messages (sampled)' : 'Chat messages', fmtNum(s.chatMessages), delta(s.chatMessages, avg && avg.chatMessages, n));
    chatTile.id = 'stream-chat-messages';
    if (chatRate < 1) chatTile.title = 'Chat read at ' + fmtNum(chatRate * 100, 1) + ' % (YouTube chat is sampled to fit the daily quota): the figures are from the sample, not scaled up.';

    var fromS = Math.floor(startMs / 60000) * 60, toS = (s.endedAt ? Date.parse(s.endedAt) : Date.now()) / 1000;
    var pts = r.points || [];
    var xs = pts.map(function (p) { return Date.parse(p.start) / 1000; });
    var running = 0;
    var noData = live ? 'The first minute appears ' + FIRST_POINT + ' after the stream started.' : 'No minute of this stream was recorded.';
    chart('stream-viewers', {
      range: [fromS, toS], height: 260, empty: ['No viewer figures yet.', ' ' + noData],
      data: [xs, pts.map(function (p) { return p.avgViewers; }), pts.map(function (p) { return p.peakViewers; })],
      series: [{ label: 'average', stroke: '#5b9cff', width: 2, fill: 'rgba(91,156,255,0.12)' }, { label: 'peak', stroke: '#ff7b8f', width: 1, dash: [4, 4] }],
      marker: r.peak ? Date.parse(r.peak.at) / 1000 : null,
    });
    chart('stream-chat', {
      range: [fromS, toS], height: 180, empty: ['No chat figures yet.', ' ' + noData], bars: true,
      data: [xs, pts.map(function (p) { return p.chatMessages; })],
      series: [{ label: 'messages', stroke: '#3ddc97', fill: 'rgba(61,220,151,0.45)', width: 1 }],
    });
    chart('stream-followers', {
      range: [fromS, toS], height: 180, empty: ['No follower figures yet.', ' ' + noData],
      data: [xs, pts.map(function (p) { running += p.followerDelta; return running; })],
      series: [{ label: 'followers gained', stroke: '#ffb547', width: 2, fill: 'rgba(255,181,71,0.12)' }],
    });

    var tb = clear($('stream-compare').tBodies[0]);
    var rows = [s].concat(cmp.previous);
    if (avg) rows.push(Object.assign({ average: true, status: '', title: 'Average of ' + n + ' previous' }, avg));
    rows.forEach(function (x) {
      var tr = document.createElement('tr');
      if (x === s) tr.className = 'current';
      var first = el('td');
      if (x.average) first.textContent = '';
      else if (x === s) first.textContent = 'This stream';
      else { var a = el('a', fmtTime(x.startedAt)); a.href = streamHash(c, x.streamId); first.appendChild(a); }
      tr.appendChild(first);
      [x.title || '–', fmtDuration(x.durationSeconds), fmtNum(x.peakViewers), fmtNum(x.avgViewers), fmtNum(x.hoursWatched, 1), '+' + fmtNum(x.followersGained), fmtNum(x.chatMessages)]
        .forEach(function (t, i) { tr.appendChild(el('td', t, i === 0 ? 'wrap' : '')); });
      tb.appendChild(tr);
    });
    var empty = $('stream-compare-empty');
    if (!n) emptyState(empty, 'This is the channel\'s first stream in Space HUB.', ' From the next stream on, each figure above is compared with the average of up to ' + COMPARE + ' previous streams.');
    else empty.hidden = true;
  }

  // ---------------------------------------------------------------- charts
  /**
   * One uPlot per container. The x range is always the requested window (never the data's own, which
   * for an empty series is a made-up span); with no data the chart is replaced by a sentence saying
   * what will appear and when. data-x-min/max expose the drawn range (the browser test checks it).
   */
  function chart(id, cfg) {
    var box = $(id), empty = $(id + '-empty');
    var c = charts[id];
    box.setAttribute('data-points', String(cfg.data[0].length));
    if (!cfg.data[0].length) {
      if (c) { c.plot.destroy(); delete charts[id]; }
      box.hidden = true;
      box.removeAttribute('data-x-min'); box.removeAttribute('data-x-max');
      emptyState(empty, cfg.empty[0], cfg.empty[1]);
      return;
    }
    box.hidden = false;
    empty.hidden = true;
    if (c && c.cfg.bars === cfg.bars && c.cfg.series.length === cfg.series.length) {
      c.cfg = cfg;
      c.plot.setData(cfg.data);
      return;
    }
    if (c) c.plot.destroy();
    c = charts[id] = { cfg: cfg, plot: null };
    var axis = { stroke: '#a3adbb', grid: { stroke: '#2a3140' }, ticks: { stroke: '#2a3140' } };
    var series = cfg.series.map(function (s) { return cfg.bars ? Object.assign({ paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }, s) : Object.assign({ points: { show: false } }, s); });
    c.plot = new uPlot({
      width: Math.max(300, box.clientWidth || 600), height: cfg.height,
      scales: { x: { time: true, range: function () { return charts[id].cfg.range.slice(); } } },
      axes: [axis, Object.assign({ size: 56 }, axis)],
      series: [{}].concat(series),
      hooks: {
        draw: [function (u) {
          box.setAttribute('data-x-min', String(u.scales.x.min));
          box.setAttribute('data-x-max', String(u.scales.x.max));
          var m = charts[id] && charts[id].cfg.marker;
          if (m === null || m === undefined) return;
          var x = Math.round(u.valToPos(m, 'x', true)), ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#ffd166'; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5;
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          ctx.fillStyle = '#ffd166'; ctx.font = '600 ' + Math.round(12 * devicePixelRatio) + 'px system-ui, sans-serif';
          ctx.textAlign = x > u.bbox.left + u.bbox.width * 0.8 ? 'right' : 'left';
          ctx.fillText(' peak ', x, u.bbox.top + 14 * devicePixelRatio);
          ctx.restore();
        }],
      },
    }, cfg.data, box);
  }
  function resizeCharts() {
    Object.keys(charts).forEach(function (id) {
      var box = $(id);
      if (box.clientWidth) charts[id].plot.setSize({ width: Math.max(300, box.clientWidth), height: charts[id].cfg.height });
    });
  }
  window.addEventListener('resize', resizeCharts);

  function addPoint(t, avg, peak) {
    var i = state.xs.indexOf(t);
    if (i === -1) {
      // Windows can arrive out of order (late events): keep the series sorted by time.
      i = 0;
      while (i < state.xs.length && state.xs[i] < t) i++;
      state.xs.splice(i, 0, t); state.avg.splice(i, 0, avg); state.peak.splice(i, 0, peak);
    } else {
      state.avg[i] = avg; state.peak[i] = peak;
    }
    var cutoff = Date.now() / 1000 - HISTORY_MS / 1000;
    while (state.xs.length > 1 && state.xs[0] < cutoff) { state.xs.shift(); state.avg.shift(); state.peak.shift(); }
  }

  function drawLive() {
    var now = Date.now() / 1000;
    var name = state.channel ? state.channel.displayName : 'Your channel';
    chart('chart', {
      range: [now - HISTORY_MS / 1000, now], height: 280,
      empty: [name + ' has not been live in the last 3 hours.', ' When a stream starts, its first point appears here ' + FIRST_POINT + ' later, and the chart then moves every minute.'],
      data: [state.xs, state.avg, state.peak],
      series: [{ label: 'average', stroke: '#5b9cff', width: 2, fill: 'rgba(91,156,255,0.12)' }, { label: 'peak', stroke: '#ff7b8f', width: 1, dash: [4, 4] }],
    });
  }

  // ---------------------------------------------------------------- live feed
  function setConnState(s, text) { var p = $('conn-state'); p.setAttribute('data-state', s); p.textContent = text; }

  function connectFeed() {
    state.closed = false;
    var ws;
    try {
      // Browsers cannot set headers on a WebSocket: the token travels as the second subprotocol.
      ws = new WebSocket(state.gateway, ['bearer', state.token]);
    } catch (err) {
      setConnState('error', 'gateway URL invalid');
      return;
    }
    state.ws = ws;
    setConnState('connecting', 'connecting…');
    ws.onopen = function () {
      state.retry = 0;
      setConnState('live', 'live feed on');
      ws.send(JSON.stringify({ event: 'join_stream_channel', data: {}, id: 'join' }));
    };
    ws.onmessage = function (m) {
      var msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      onFeed(msg.event, msg.data || {});
    };
    ws.onclose = function (ev) {
      if (state.closed) return;
      setConnState('error', ev.code === 1008 || ev.code === 4001 ? 'gateway refused the token' : 'reconnecting…');
      var delay = Math.min(30000, 1000 * Math.pow(2, state.retry++)) * (0.5 + Math.random() / 2);
      setTimeout(function () { if (!state.closed && state.token) connectFeed(); }, delay);
    };
  }

  /** At most one re-read per REFRESH_MS per target, however many windows arrive. */
  function throttle(name, fn) {
    if (state.refreshTimer[name]) return;
    var wait = Math.max(0, (state.refreshAt[name] || 0) + REFRESH_MS - Date.now());
    state.refreshTimer[name] = setTimeout(function () { state.refreshTimer[name] = null; state.refreshAt[name] = Date.now(); fn(); }, wait);
  }

  function onFeed(event, d) {
    if (event === 'metrics_update') {
      var c = state.channel;
      var mine = c && d.platform === c.platform && d.channelId === c.channelId;
      if (mine && d.live !== false && !$('view-overview').hidden) {
        var t = Math.floor(Number(d.windowStart) / 1000);
        // Early firings (provisional: true) update the open minute every few seconds; once a minute's
        // final window is here, a provisional one that arrives after it is ignored.
        state.finalWindows = state.finalWindows || {};
        if (d.provisional && state.finalWindows[t]) return;
        if (!d.provisional) state.finalWindows[t] = true;
        addPoint(t, d.avgViewers, d.peakViewers);
        drawLive();
        var now = document.querySelector('#status .viewers-now');
        if (now && state.xs[state.xs.length - 1] === t) now.textContent = 'viewers ' + fmtNum(d.avgViewers);
        if (state.live && state.xs[state.xs.length - 1] === t) {
          state.live.viewersNow = d.avgViewers;
          state.live.paidNow = d.paidSubscribers === undefined ? state.live.paidNow : d.paidSubscribers;
          var running = d.session;
          if (running && running.streamId === state.live.report.session.streamId) {
            // The processors' running summary rides on each closed window: no re-read needed.
            var figures = {
              peakViewers: running.peakViewers, avgViewers: running.avgViewers, hoursWatched: running.hoursWatched,
              followersGained: running.followersGained, chatMessages: running.chatMessages,
              paidSubscribersGained: running.paidSubscribersGained === undefined ? null : running.paidSubscribersGained,
            };
            state.live.fed = { streamId: running.streamId, figures: figures };
            Object.assign(state.live.report.session, figures);
            renderLive();
            patchLiveRow();
          } else {
            var tileNow = $('live-viewers');
            if (tileNow) tileNow.querySelector('dd').textContent = fmtNum(d.avgViewers);
            var paidTile = $('live-paid-subscribers');
            if (paidTile && d.paidSubscribers !== undefined) {
              var fig = paidSubscribersFigure(state.live);
              clear(paidTile.querySelector('dd')).textContent = fig.value;
              if (fig.reason) paidTile.querySelector('dd').appendChild(el('span', fig.reason, 'delta reason'));
            }
            throttle('live', function () { if (state.live && state.channel === c) loadLive(c, { live: true, session: state.live.report.session, viewers: { current: state.live.viewersNow } }); });
          }
        }
      }
      var s = state.stream;
      if (s && s.channel.platform === d.platform && s.channel.channelId === d.channelId) throttle('stream', loadStream);
    } else if (event === 'alert' || event === 'stream_notification') {
      pushAlert(d, event === 'alert' ? d.type : 'stream_' + (d.type === 'start' ? 'started' : 'ended'));
      if (event === 'stream_notification' && state.channel && d.channelId === state.channel.channelId && !$('view-overview').hidden) selectChannel(state.channel);
    } else if (event === 'error') {
      setConnState('error', d.code || 'error');
    }
  }

  // The feed starts from the stored history; live alerts are added on top as they arrive.
  function loadAlertHistory() {
    return api('/v1/creators/me/alerts?limit=' + MAX_ALERTS).then(function (body) {
      (body.alerts || []).slice().reverse().forEach(function (a) {
        pushAlert({ platform: a.platform, message: a.message, severity: a.severity, occurredAt: Date.parse(a.occurredAt) }, a.type);
      });
    }).catch(function () { /* history is a convenience; the live feed still works */ });
  }

  function pushAlert(d, type) {
    var list = $('alerts');
    var empty = list.querySelector('.empty');
    if (empty) empty.remove();
    var li = el('li', null, 'alert sev-' + (d.severity || 'info'));
    li.appendChild(el('time', new Date(Number(d.occurredAt) || Date.now()).toLocaleTimeString()));
    li.appendChild(el('strong', type.replace(/_/g, ' ')));
    li.appendChild(el('span', (d.platform ? platformName(d.platform) + ' · ' : '') + (d.message || '')));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ALERTS) list.removeChild(list.lastChild);
  }

  // ---------------------------------------------------------------- wiring
  takeConnectResult();
  $('gateway').value = sessionStorage.getItem(KEY_GATEWAY) || defaultGateway();
  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    $('login-error').textContent = '';
    login($('token').value.trim(), $('gateway').value.trim()).catch(function (err) {
      if (err.message !== 'unauthorized') $('login-error').textContent = 'Could not load your channels: ' + err.message;
    });
  });
  $('logout').addEventListener('click', function () { logout(); });
  Array.prototype.forEach.call(document.querySelectorAll('[data-connect]'), function (b) {
    b.addEventListener('click', function () { startConnect(b.getAttribute('data-connect'), b); });
  });
  $('creator-range').addEventListener('change', loadCreator);
  // The export needs the Bearer header, so it is fetched and handed to the browser as a blob download.
  $('download').addEventListener('click', function () {
    var c = state.channel;
    if (!c) return;
    var format = $('export-format').value;
    var from = new Date(Date.now() - 7 * 86400000).toISOString();
    var path = channelPath(c) + '/metrics?granularity=1h&format=' + format + '&from=' + encodeURIComponent(from);
    fetch(path, { headers: { Authorization: 'Bearer ' + state.token } }).then(function (res) {
      if (!res.ok) throw new Error('export failed (HTTP ' + res.status + ')');
      return res.blob();
    }).then(function (blob) {
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = c.platform + '-' + c.channelId + '-metrics-1h.' + format;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(showError($('status')));
  });
  $('channel').addEventListener('change', function (e) {
    var c = state.channels.find(function (x) { return channelKey(x) === e.target.value; });
    if (!c) return;
    state.channel = c;
    if (location.hash && location.hash !== '#/') location.hash = '#/';
    else selectChannel(c);
  });
  var saved = sessionStorage.getItem(KEY_TOKEN);
  if (saved) login(saved, $('gateway').value).catch(function () { logout(); });
})();
