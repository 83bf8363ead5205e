/*
 * Space HUB live dashboard: vanilla JS + uPlot, no build step. Served by the API at / (REST on the same
 * origin); live updates come from the WebSocket gateway's plain protocol. Every string from the server
 * is written with textContent (never innerHTML), and the token stays in this tab's sessionStorage.
 */
(function () {
  'use strict';

  var KEY_TOKEN = 'spacehub.token';
  var KEY_GATEWAY = 'spacehub.gateway';
  var HISTORY_MS = 3 * 3600 * 1000;
  var MAX_ALERTS = 50;
  var DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

  var $ = function (id) { return document.getElementById(id); };
  var state = { token: null, gateway: null, channels: [], channel: null, xs: [], avg: [], peak: [], plot: null, ws: null, retry: 0, closed: false };

  // ---------------------------------------------------------------- helpers
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmtNum(v, digits) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits || 0 });
  }
  function fmtTime(iso) { return iso ? new Date(iso).toLocaleString() : '–'; }
  function fmtDuration(s) {
    var h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
    return h ? h + ' h ' + m + ' min' : m + ' min';
  }
  function defaultGateway() {
    var q = new URLSearchParams(location.search).get('gateway');
    if (q) return q;
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.hostname || '127.0.0.1') + ':8081/ws';
  }
  function channelKey(c) { return c.platform + ':' + c.channelId; }

  // ---------------------------------------------------------------- REST
  function api(path) {
    return fetch(path, { headers: { Authorization: 'Bearer ' + state.token, Accept: 'application/json' } }).then(function (res) {
      if (res.status === 401) { logout('The token was refused. Log in again.'); throw new Error('unauthorized'); }
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { var err = new Error(body.detail || body.title || ('HTTP ' + res.status)); err.status = res.status; throw err; }
        return body;
      });
    });
  }

  // ---------------------------------------------------------------- login
  function login(token, gateway) {
    state.token = token;
    state.gateway = gateway;
    return api('/v1/connections').then(function (body) {
      sessionStorage.setItem(KEY_TOKEN, token);
      sessionStorage.setItem(KEY_GATEWAY, gateway);
      $('login').hidden = true;
      $('app').hidden = false;
      $('logout').hidden = false;
      state.channels = (body.connections || []).filter(function (c) { return c.status !== 'revoked'; });
      var select = $('channel');
      select.textContent = '';
      state.channels.forEach(function (c) {
        var o = el('option', c.displayName + ' (' + c.platform + ')');
        o.value = channelKey(c);
        select.appendChild(o);
      });
      if (!state.channels.length) { $('status').textContent = 'No connected channels yet: connect one through the API (/v1/auth/{platform}/authorize).'; }
      else selectChannel(state.channels[0]);
      connectFeed();
      loadAlertHistory();
    });
  }

  // The feed starts from the stored history; live alerts are added on top as they arrive.
  function loadAlertHistory() {
    return api('/v1/creators/me/alerts?limit=' + MAX_ALERTS).then(function (body) {
      (body.alerts || []).slice().reverse().forEach(function (a) {
        pushAlert({ platform: a.platform, message: a.message, severity: a.severity, occurredAt: Date.parse(a.occurredAt) }, a.type);
      });
    }).catch(function () { /* history is a convenience; the live feed still works */ });
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
    setConnState('idle', 'offline');
  }

  // ---------------------------------------------------------------- channel view
  function selectChannel(c) {
    state.channel = c;
    state.xs = []; state.avg = []; state.peak = [];
    var base = '/v1/channels/' + encodeURIComponent(c.platform) + '/' + encodeURIComponent(c.channelId);
    var from = new Date(Date.now() - HISTORY_MS).toISOString();
    api(base).then(renderStatus).catch(showError($('status')));
    api(base + '/metrics?granularity=1m&from=' + encodeURIComponent(from)).then(function (series) {
      if (state.channel !== c) return;
      (series.points || []).forEach(function (p) { addPoint(Date.parse(p.start) / 1000, p.avgViewers, p.peakViewers); });
      draw();
    }).catch(showError($('status')));
    api(base + '/sessions?limit=20').then(renderSessions).catch(showError($('sessions').tBodies[0]));
    api(base + '/recommendations?count=5').then(renderRecommendations).catch(function (err) {
      var list = $('recommendations');
      list.textContent = '';
      var text = err.status === 404 ? 'No model trained yet — run `spacehub train`.' : err.status === 422 ? 'Not enough history for this channel yet.' : err.message;
      list.appendChild(el('li', text, 'muted'));
    });
  }

  function showError(target) {
    return function (err) { if (err.message !== 'unauthorized') { target.textContent = ''; target.appendChild(el('span', err.message, 'error')); } };
  }

  function renderStatus(v) {
    var s = $('status');
    s.textContent = '';
    s.appendChild(el('span', v.live ? 'LIVE' : 'offline', v.live ? 'pill live' : 'pill'));
    s.appendChild(el('span', 'viewers ' + fmtNum(v.viewers && v.viewers.current), 'viewers-now'));
    s.appendChild(el('span', 'followers ' + fmtNum(v.followers && v.followers.current) + ' (+' + fmtNum(v.followers && v.followers.growth24h) + ' in 24 h)'));
    if (v.session && v.session.title) s.appendChild(el('span', v.session.title, 'muted'));
    if (v.stale) s.appendChild(el('span', 'data is behind', 'error'));
  }

  function renderSessions(body) {
    var tb = $('sessions').tBodies[0];
    tb.textContent = '';
    (body.sessions || []).forEach(function (x) {
      var tr = document.createElement('tr');
      [fmtTime(x.startedAt), x.status, x.title || '–', fmtDuration(x.durationSeconds), fmtNum(x.peakViewers), fmtNum(x.avgViewers), fmtNum(x.hoursWatched, 1), '+' + fmtNum(x.followersGained)]
        .forEach(function (t) { tr.appendChild(el('td', t)); });
      tb.appendChild(tr);
    });
    if (!tb.rows.length) tb.appendChild(el('tr')).appendChild(el('td', 'No sessions yet.', 'muted'));
  }

  function renderRecommendations(body) {
    var list = $('recommendations');
    list.textContent = '';
    (body.slots || []).forEach(function (s) {
      var day = DAYS[Math.floor(s.hourOfWeek / 24)], hour = String(s.hourOfWeek % 24).padStart(2, '0');
      var expected = s.medianViewers !== undefined ? s.medianViewers : s.expectedViewers;
      var range = s.low !== undefined && s.high !== undefined ? ' (' + fmtNum(s.low) + '–' + fmtNum(s.high) + ')' : '';
      list.appendChild(el('li', day + ' ' + hour + ':00 UTC — about ' + fmtNum(expected) + ' viewers' + range + ', next ' + fmtTime(s.startsAt)));
    });
  }

  // ---------------------------------------------------------------- chart
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

  function draw() {
    var box = $('chart');
    var data = [state.xs, state.avg, state.peak];
    var width = Math.max(300, box.clientWidth || 600);
    if (!state.plot) {
      state.plot = new uPlot({
        width: width, height: 280,
        scales: { x: { time: true } },
        axes: [{ stroke: '#9aa4b2', grid: { stroke: '#2a3140' } }, { stroke: '#9aa4b2', grid: { stroke: '#2a3140' } }],
        series: [{}, { label: 'average', stroke: '#5b9cff', width: 2, fill: 'rgba(91,156,255,0.12)' }, { label: 'peak', stroke: '#ff6b8b', width: 1, dash: [4, 4] }],
      }, data, box);
    } else {
      state.plot.setData(data);
    }
    box.setAttribute('data-points', String(state.xs.length));
  }

  window.addEventListener('resize', function () {
    if (state.plot) state.plot.setSize({ width: Math.max(300, $('chart').clientWidth), height: 280 });
  });

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
      setConnState('live', 'live');
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

  function onFeed(event, d) {
    if (event === 'metrics_update') {
      if (state.channel && d.platform === state.channel.platform && d.channelId === state.channel.channelId && d.live !== false) {
        var t = Math.floor(Number(d.windowStart) / 1000);
        addPoint(t, d.avgViewers, d.peakViewers);
        draw();
        var now = document.querySelector('#status .viewers-now');
        if (now && state.xs[state.xs.length - 1] === t) now.textContent = 'viewers ' + fmtNum(d.avgViewers);
      }
    } else if (event === 'alert' || event === 'stream_notification') {
      pushAlert(d, event === 'alert' ? d.type : 'stream_' + (d.type === 'start' ? 'started' : 'ended'));
      if (event === 'stream_notification' && state.channel && d.channelId === state.channel.channelId) selectChannel(state.channel);
    } else if (event === 'error') {
      setConnState('error', d.code || 'error');
    }
  }

  function pushAlert(d, type) {
    var list = $('alerts');
    var empty = list.querySelector('.empty');
    if (empty) empty.remove();
    var li = el('li', null, 'alert sev-' + (d.severity || 'info'));
    li.appendChild(el('time', new Date(Number(d.occurredAt) || Date.now()).toLocaleTimeString()));
    li.appendChild(el('strong', type.replace(/_/g, ' ')));
    li.appendChild(el('span', (d.platform ? d.platform + ' · ' : '') + (d.message || '')));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ALERTS) list.removeChild(list.lastChild);
  }

  // ---------------------------------------------------------------- wiring
  $('gateway').value = sessionStorage.getItem(KEY_GATEWAY) || defaultGateway();
  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    $('login-error').textContent = '';
    login($('token').value.trim(), $('gateway').value.trim()).catch(function (err) {
      if (err.message !== 'unauthorized') $('login-error').textContent = 'Could not load your channels: ' + err.message;
    });
  });
  $('logout').addEventListener('click', function () { logout(); });
  // The export needs the Bearer header, so it is fetched and handed to the browser as a blob download.
  $('download').addEventListener('click', function () {
    var c = state.channel;
    if (!c) return;
    var format = $('export-format').value;
    var from = new Date(Date.now() - 7 * 86400000).toISOString();
    var path = '/v1/channels/' + encodeURIComponent(c.platform) + '/' + encodeURIComponent(c.channelId) +
      '/metrics?granularity=1h&format=' + format + '&from=' + encodeURIComponent(from);
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
    if (c) selectChannel(c);
  });
  var saved = sessionStorage.getItem(KEY_TOKEN);
  if (saved) login(saved, $('gateway').value).catch(function () { logout(); });
})();
