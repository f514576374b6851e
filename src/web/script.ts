/**
 * The page's script, as the text the browser runs. It is plain JavaScript in a string so that the
 * server serves the same bytes whether it runs from TypeScript (tests, tsx) or from tsc's output
 * (the image): no bundler, no second build, nothing fetched from a CDN. Browser tests
 * (tests/page.test.ts) are what check it.
 *
 * Rules it keeps, so that neither a model's answer nor anything else can become markup or script:
 * every element is made with createElement and filled with textContent (the string never uses
 * innerHTML or its relatives); links are made only for http(s) URLs. The token lives in this tab's
 * sessionStorage, travels only in the Authorization header of requests to this origin, and never
 * enters a URL.
 *
 * Written without backticks and without dollar-brace: the whole script is one String.raw literal.
 */
export const PAGE_SCRIPT = String.raw`(function () {
'use strict';
var TOKEN_KEY = 'a2a-space:token';
var PENDING_KEY = 'a2a-space:sign-in';
var CALLBACK_MESSAGE = 'a2a-space:oauth-callback';
var RESTARTING = 'The Space is restarting or asleep, or the connection dropped. Try again in a moment.';
var PERMISSIONS = { 'inference-api': 'Make calls to Inference Providers' };

function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}
function link(href, text) {
  var a = el('a', null, text);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

// sessionStorage can be refused (a sandboxed frame, strict privacy settings): then the token lives
// in this page's memory and is gone on reload.
var memory = {};
var store = {
  get: function (key) { try { return sessionStorage.getItem(key); } catch (e) { return key in memory ? memory[key] : null; } },
  set: function (key, value) { try { sessionStorage.setItem(key, value); } catch (e) { memory[key] = value; } },
  remove: function (key) { try { sessionStorage.removeItem(key); } catch (e) { /* nothing stored */ } delete memory[key]; }
};

function b64url(buffer) {
  var bytes = new Uint8Array(buffer), s = '';
  for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function randomString(bytes) { return b64url(crypto.getRandomValues(new Uint8Array(bytes))); }
function uuid() { return crypto.randomUUID ? crypto.randomUUID() : randomString(16); }

/** A PKCE verifier with its S256 challenge, and a state to match the answer to the request. */
function pkce() {
  if (!window.crypto || !crypto.subtle) return Promise.reject(new Error('This page is not served over https, so the browser cannot sign in from it. Paste a token instead.'));
  var verifier = randomString(32), state = randomString(16);
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)).then(function (digest) {
    return { verifier: verifier, state: state, challenge: b64url(digest) };
  });
}

function readJson(res) {
  return res.text().then(function (text) { try { return JSON.parse(text); } catch (e) { return null; } }, function () { return null; });
}
function retryAfter(res) {
  var value = res.headers.get('Retry-After');
  if (!value) return 0;
  if (/^\d+$/.test(value)) return Number(value);
  var at = Date.parse(value);
  return at ? Math.max(1, Math.ceil((at - Date.now()) / 1000)) : 0;
}
function seconds(n) { return n === 1 ? '1 second' : n + ' seconds'; }

/**
 * What an HTTP error means for the visitor, and what to do about it. words: what the page calls the
 * credential a visitor pastes when this server takes no Hugging Face tokens (null when it does).
 */
function problem(res, hadToken, words) {
  return readJson(res).then(function (body) {
    var detail = body && body.error ? (typeof body.error === 'string' ? body.error : String(body.error.message || '')) : '';
    var wait = retryAfter(res);
    switch (res.status) {
      case 401:
        if (words) {
          return hadToken
            ? 'This server does not accept your ' + words.noun + ': it may be mistyped, expired or revoked. Paste another, then send again.'
            : 'This server needs ' + words.a + '. Paste it above, then send again.';
        }
        return hadToken
          ? 'Hugging Face does not accept your token: it may have expired or been revoked. Sign in again, or paste a valid token.'
          : 'This Space needs your Hugging Face token. Sign in with Hugging Face, or paste a token, then send again.';
      case 403: {
        if (words) return 'This server does not let your ' + words.noun + ' do this' + (detail ? ': ' + detail : '.');
        var named = /\(([^)]*)\)/.exec(detail);
        var names = named ? named[1].split(/,\s*/) : [];
        var what = names.length
          ? 'the permission ' + names.map(function (n) { return PERMISSIONS[n] ? '"' + PERMISSIONS[n] + '" (' + n + ')' : n; }).join(', ')
          : 'a permission this Space needs';
        return 'Your token lacks ' + what + '. Sign in with Hugging Face, or create a token with it in your Hugging Face settings and paste that.';
      }
      case 429:
        return 'Too many requests right now. Wait ' + (wait ? seconds(wait) : 'a little') + ', then send again.';
      case 413:
        return 'That message is too long for this Space. Send a shorter one.';
      case 502: case 503: case 504:
        // This server's own 503s say what happened (a token check that could not run); the Spaces
        // proxy's say nothing a visitor can use.
        if (detail) return detail + (wait && !/try again/i.test(detail) ? ' Try again in ' + seconds(wait) + '.' : '');
        return RESTARTING;
      default:
        return 'The Space answered with an error (' + res.status + ')' + (detail ? ': ' + detail : '.');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Markdown, safely: a small subset (paragraphs, emphasis, code, code blocks, lists, quotes, links)
// rendered into elements made here. Anything else stays text.

var FENCE = /^\s{0,3}(\x60{3,}|~{3,})\s*([\w+#.-]*)[^\x60]*$/;
var HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
var LIST = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
var QUOTE = /^\s{0,3}>\s?(.*)$/;
var RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
var TABLE = /^\s*\|/;
var BLANK = /^\s*$/;
var INLINE = /(\x60+)([^\x60][\s\S]*?)\1(?!\x60)|\[([^\]\n]+)\]\(\s*<?([^\s()<>]+)>?\s*\)|\bhttps?:\/\/[^\s<>"'\x60]+|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<!\w)_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/;

function safeUrl(url) {
  try {
    var parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch (e) { return null; }
}

function text(parent, s) {
  var lines = s.split('\n');
  for (var i = 0; i < lines.length; i++) {
    if (i) parent.appendChild(el('br'));
    if (lines[i]) parent.appendChild(document.createTextNode(lines[i]));
  }
}

function inline(s, parent) {
  while (s) {
    var m = INLINE.exec(s);
    if (!m) { text(parent, s); return; }
    if (m.index) text(parent, s.slice(0, m.index));
    var whole = m[0], rest = s.slice(m.index + whole.length), node;
    if (m[1]) {
      parent.appendChild(el('code', null, m[2].replace(/^ ([\s\S]*) $/, '$1')));
    } else if (m[3] !== undefined) {
      var href = safeUrl(m[4]);
      if (href) { node = link(href); inline(m[3], node); parent.appendChild(node); } else text(parent, whole);
    } else if (m[5] !== undefined || m[6] !== undefined) {
      node = el('strong'); inline(m[5] !== undefined ? m[5] : m[6], node); parent.appendChild(node);
    } else if (m[7] !== undefined || m[8] !== undefined) {
      node = el('em'); inline(m[7] !== undefined ? m[7] : m[8], node); parent.appendChild(node);
    } else {
      // A bare URL; punctuation after it belongs to the sentence.
      var url = whole.replace(/[.,;:!?)\]'"]+$/, '');
      var safe = safeUrl(url);
      if (safe) parent.appendChild(link(safe, url)); else text(parent, url);
      rest = whole.slice(url.length) + rest;
    }
    s = rest;
  }
}

function blocks(src) {
  var out = document.createDocumentFragment();
  var lines = src.replace(/\r\n?/g, '\n').split('\n');
  var i = 0, m;
  while (i < lines.length) {
    var line = lines[i];
    if (BLANK.test(line)) { i++; continue; }
    if ((m = FENCE.exec(line))) {
      var mark = m[1], code = [];
      for (i++; i < lines.length; i++) {
        var close = /^\s{0,3}(\x60{3,}|~{3,})\s*$/.exec(lines[i]);
        if (close && close[1].charAt(0) === mark.charAt(0) && close[1].length >= mark.length) { i++; break; }
        code.push(lines[i]);
      }
      var pre = el('pre'), codeEl = el('code', null, code.join('\n'));
      if (m[2]) codeEl.setAttribute('data-lang', m[2]);
      pre.appendChild(codeEl);
      out.appendChild(pre);
      continue;
    }
    if (RULE.test(line)) { out.appendChild(el('hr')); i++; continue; }
    if ((m = HEADING.exec(line))) {
      var heading = el('p', 'h'), strong = el('strong');
      inline(m[2], strong);
      heading.appendChild(strong);
      out.appendChild(heading);
      i++;
      continue;
    }
    if (TABLE.test(line)) {
      // Tables stay text, in a monospace block that keeps their columns lined up.
      var rows = [];
      while (i < lines.length && TABLE.test(lines[i])) rows.push(lines[i++]);
      out.appendChild(el('pre', 'table', rows.join('\n')));
      continue;
    }
    if ((m = QUOTE.exec(line))) {
      var quoted = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) { quoted.push(m[1]); i++; }
      var quote = el('blockquote');
      quote.appendChild(blocks(quoted.join('\n')));
      out.appendChild(quote);
      continue;
    }
    if ((m = LIST.exec(line))) {
      var ordered = /\d/.test(m[1]);
      var list = el(ordered ? 'ol' : 'ul'), item = null, itemText = [];
      if (ordered && parseInt(m[1], 10) !== 1) list.start = parseInt(m[1], 10);
      while (i < lines.length) {
        var l = lines[i], lm = LIST.exec(l);
        if (lm && !RULE.test(l)) {
          if (/\d/.test(lm[1]) !== ordered) break;
          if (item) { inline(itemText.join('\n'), item); list.appendChild(item); }
          item = el('li'); itemText = [lm[2]]; i++;
          continue;
        }
        if (BLANK.test(l)) {
          // A blank line ends the list unless the list (or the item) goes on after it.
          var next = lines[i + 1], nm = next === undefined ? null : LIST.exec(next);
          if ((nm && /\d/.test(nm[1]) === ordered) || (next !== undefined && /^\s{2,}\S/.test(next))) { i++; continue; }
          break;
        }
        if (FENCE.test(l) || HEADING.test(l) || QUOTE.test(l) || RULE.test(l)) break;
        itemText.push(l.trim()); i++;
      }
      if (item) { inline(itemText.join('\n'), item); list.appendChild(item); }
      out.appendChild(list);
      continue;
    }
    var para = [line];
    for (i++; i < lines.length; i++) {
      var p = lines[i];
      if (BLANK.test(p) || FENCE.test(p) || HEADING.test(p) || QUOTE.test(p) || RULE.test(p) || TABLE.test(p) || LIST.test(p)) break;
      para.push(p);
    }
    var paragraph = el('p');
    inline(para.join('\n'), paragraph);
    out.appendChild(paragraph);
  }
  return out;
}

function renderMarkdown(src, into) { into.replaceChildren(blocks(src)); }

// ---------------------------------------------------------------------------------------------
// Signing in. The token endpoint is this server's /oauth/token (it adds the client credentials
// the browser must not hold, when there are any); the token itself stays in this tab.

function saveAuth(auth) {
  if (auth) store.set(TOKEN_KEY, JSON.stringify(auth)); else store.remove(TOKEN_KEY);
}
function readAuth() {
  var raw = store.get(TOKEN_KEY);
  if (!raw) return null;
  try {
    var auth = JSON.parse(raw);
    if (auth && typeof auth.token === 'string' && auth.token && (!auth.expiresAt || auth.expiresAt > Date.now())) return auth;
  } catch (e) { /* unreadable: forget it */ }
  store.remove(TOKEN_KEY);
  return null;
}

function exchange(code, verifier, redirectUri) {
  return fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: code, code_verifier: verifier, redirect_uri: redirectUri }),
    cache: 'no-store',
    credentials: 'omit'
  }).then(function (res) {
    return readJson(res).then(function (body) {
      if (res.ok && body && typeof body.access_token === 'string') return body;
      throw new Error('Sign-in did not finish: ' + ((body && body.error) || 'the Space answered ' + res.status) + ' Try signing in again.');
    });
  }, function () { throw new Error('Sign-in did not finish. ' + RESTARTING); });
}

/** Who a token belongs to, asked of this server (which asks the Hub): the page talks to no other host. */
function identify(token) {
  return fetch('/oauth/whoami', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', credentials: 'omit' }).then(function (res) {
    if (res.ok) return readJson(res).then(function (body) { return { name: body && typeof body.name === 'string' ? body.name : '' }; });
    if (res.status === 401) return { rejected: 'Hugging Face does not accept this token. Check that you copied all of it, or sign in with Hugging Face.' };
    return problem(res, true).then(function (why) { return { name: '', warning: 'Your token is saved, but who it belongs to could not be checked yet: ' + why }; });
  }, function () { return { name: '', warning: '' }; });
}

/** Keeps a token the Hub accepts (or could not judge yet); refuses one it rejects. */
function adopt(token, expiresIn) {
  return identify(token).then(function (who) {
    if (who.rejected) throw new Error(who.rejected);
    var auth = { token: token, name: who.name, expiresAt: expiresIn > 0 ? Date.now() + expiresIn * 1000 : 0 };
    saveAuth(auth);
    return { auth: auth, warning: who.warning || '' };
  });
}

// ---------------------------------------------------------------------------------------------
// The callback page: the Hub sends the browser here with ?code&state.

function callbackPage() {
  var query = new URLSearchParams(location.search);
  var code = query.get('code'), state = query.get('state') || '', error = query.get('error_description') || query.get('error');
  // The code is single-use and bound to this sign-in's verifier, but it has no place in history.
  history.replaceState(null, '', location.pathname);
  var status = $('callback-status');
  function say(message, isError) { status.textContent = message; status.className = isError ? 'note error' : 'note'; }

  var pending = null;
  try { pending = JSON.parse(store.get(PENDING_KEY) || 'null'); } catch (e) { pending = null; }
  store.remove(PENDING_KEY);

  if (pending && pending.state && pending.state === state) {
    // This tab started the sign-in (the page was not in a frame): finish it here.
    if (error || !code) { say('Sign-in did not finish: ' + (error || 'the Hub sent no code') + '.', true); return; }
    say('Finishing sign-in…');
    exchange(code, pending.verifier, location.origin + location.pathname)
      .then(function (got) { return adopt(got.access_token, got.expires_in); })
      .then(function () { location.replace('/'); }, function (e) { say(e.message, true); });
    return;
  }
  if (window.opener && window.opener !== window) {
    // A page in the Space's frame opened this window; it holds the verifier (and its own storage,
    // which this window may not share), so it finishes the sign-in. Only this origin may read it.
    window.opener.postMessage({ type: CALLBACK_MESSAGE, code: code, state: state, error: error }, location.origin);
    say('Signed in. You can close this window.');
    window.close();
    return;
  }
  say('This sign-in cannot finish here: the page that started it is no longer connected to this window. Close it and press "Sign in with Hugging Face" again on the Space page.', true);
}

// ---------------------------------------------------------------------------------------------
// The main page.

function mainPage() {
  var cfg = JSON.parse($('page-config').textContent);
  var log = $('log'), examples = $('examples'), form = $('composer'), box = $('message');
  var picker = $('agent'), about = $('agent-about'), sendButton = $('send'), cancelButton = $('cancel'), newChat = $('new-chat');
  var access = cfg.access;
  // The Hub's sign-in, when this server takes Hugging Face tokens; else what to call the credential
  // a visitor pastes (an API key, an access token), which no route here can check ahead of a message.
  var hf = access.mode === 'huggingface' ? access.signIn : null;
  var words = access.mode === 'credential' ? access : null;
  var auth = access.mode !== 'open' ? readAuth() : null;
  var contextId = null, running = null, rpcId = 0, prepared = null, popupFlow = null;

  function agentNamed(name) {
    for (var i = 0; i < cfg.agents.length; i++) if (cfg.agents[i].name === name) return cfg.agents[i];
    return null;
  }

  // --- account

  function note(message, isError) {
    var n = $('account-note');
    if (!n) return;
    n.textContent = message || '';
    n.className = isError ? 'note error' : 'note';
  }
  function showAccount() {
    if (access.mode === 'open') return;
    $('signed-out').hidden = !!auth;
    $('signed-in').hidden = !auth;
    var who = $('who');
    who.textContent = '';
    if (!auth) return;
    if (words) {
      who.textContent = 'Using your ' + words.noun;
    } else if (auth.name) {
      who.appendChild(document.createTextNode('Signed in as '));
      who.appendChild(link(cfg.hubUrl + '/' + encodeURIComponent(auth.name), auth.name));
    } else {
      who.textContent = 'Using your token';
    }
  }
  function setAuth(next) {
    auth = next;
    saveAuth(next);
    showAccount();
  }
  function currentToken() {
    if (auth && auth.expiresAt && auth.expiresAt <= Date.now()) {
      setAuth(null);
      note('Your sign-in has expired. Sign in again.', true);
    }
    return auth ? auth.token : null;
  }

  function prepare() {
    prepared = null;
    pkce().then(function (p) { prepared = p; }, function () { /* reported when the button is pressed */ });
  }
  function authorizeUrl(p) {
    var s = hf;
    var query = new URLSearchParams({
      response_type: 'code', client_id: s.clientId, redirect_uri: s.redirectUri, scope: s.scope,
      state: p.state, code_challenge: p.challenge, code_challenge_method: 'S256'
    });
    return s.authorizeUrl + '?' + query.toString();
  }
  function signIn() {
    function go(p) {
      prepare();
      if (window.top !== window.self) {
        // In the Space page's frame: the Hub's sign-in gets a window of its own, as the Hub's
        // Spaces guidance says (its cookies do not work inside a third-party frame).
        var w = window.open(authorizeUrl(p), 'hf-sign-in', 'popup,width=520,height=720');
        if (!w) { note('Your browser blocked the sign-in window. Allow pop-ups for this page, or open the Space in its own tab and sign in there.', true); return; }
        popupFlow = { state: p.state, verifier: p.verifier, window: w };
        note('Finish signing in in the new window.');
      } else {
        store.set(PENDING_KEY, JSON.stringify({ state: p.state, verifier: p.verifier }));
        location.assign(authorizeUrl(p));
      }
    }
    // Prepared ahead, so that the window opens within the click (pop-up blockers wait for nothing).
    if (prepared) go(prepared); else pkce().then(go, function (e) { note(e.message, true); });
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (event.origin !== location.origin || !data || data.type !== CALLBACK_MESSAGE || !popupFlow || data.state !== popupFlow.state) return;
    if (popupFlow.window && event.source !== popupFlow.window) return;
    var flow = popupFlow;
    popupFlow = null;
    if (data.error || !data.code) { note('Sign-in did not finish: ' + (data.error || 'the Hub sent no code') + '.', true); return; }
    note('Finishing sign-in…');
    exchange(data.code, flow.verifier, hf.redirectUri)
      .then(function (got) { return adopt(got.access_token, got.expires_in); })
      .then(function (done) { auth = done.auth; showAccount(); note(done.warning); box.focus(); }, function (e) { note(e.message, true); });
  });

  if (access.mode !== 'open') {
    $('sign-out').addEventListener('click', function () {
      setAuth(null);
      if (words) {
        note('Forgotten: this tab no longer holds your ' + words.noun + '.');
        $('token-input').focus();
      } else {
        note('Signed out: this tab no longer holds your token.');
        $('sign-in').focus();
      }
    });
    $('token-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var input = $('token-input'), token = input.value.trim();
      if (!token) return;
      function use(done) {
        input.value = '';
        if ($('paste')) $('paste').open = false;
        auth = done.auth;
        showAccount();
        note(done.warning);
        box.focus();
      }
      // A key or another provider's token (taken beside Hugging Face tokens when access.takesOthers)
      // cannot be checked with the Hub: it too is kept as it is.
      if (words || (hf && access.takesOthers && !/^hf_/.test(token))) {
        // Kept as it is: the first message shows whether the server takes it.
        var kept = { token: token, name: '', expiresAt: 0 };
        saveAuth(kept);
        use({ auth: kept, warning: '' });
        return;
      }
      note('Checking your token…');
      adopt(token, 0).then(use, function (e) { note(e.message, true); });
    });
    showAccount();
  }
  if (hf) {
    $('sign-in').addEventListener('click', signIn);
    prepare();
  }

  // --- chat

  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 48; }
  function toBottom() { log.scrollTop = log.scrollHeight; }

  function showExamples() {
    examples.textContent = '';
    var agent = agentNamed(picker.value), list = agent ? agent.examples : [];
    examples.appendChild(el('span', 'muted small', list.length ? 'Try:' : 'Send a message to start.'));
    list.forEach(function (example) {
      var b = el('button', null, example);
      b.type = 'button';
      b.addEventListener('click', function () { box.value = example; send(); });
      examples.appendChild(b);
    });
  }
  function pickAgent() {
    var agent = agentNamed(picker.value);
    about.textContent = agent ? agent.description : '';
    // The default agent's description is already the page's lede.
    about.hidden = !agent || agent.default;
    box.placeholder = 'Message ' + picker.value + '… (Enter sends, Shift+Enter for a new line)';
    if (!examples.hidden) showExamples();
  }

  function addUser(message) {
    var m = el('div', 'msg user');
    m.appendChild(el('div', 'who', 'You'));
    m.appendChild(el('div', 'body', message));
    log.appendChild(m);
    toBottom();
  }
  function agentView(name) {
    var root = el('div', 'msg agent');
    root.appendChild(el('div', 'who', name));
    var view = { root: root, activity: el('ul', 'activity'), body: el('div', 'body md streaming'), parts: {}, order: [], ended: false, timer: 0 };
    root.appendChild(view.activity);
    root.appendChild(view.body);
    log.appendChild(root);
    toBottom();
    return view;
  }
  function answerText(view) { return view.order.map(function (id) { return view.parts[id]; }).join('\n\n'); }
  function paint(view) {
    var stick = nearBottom();
    renderMarkdown(answerText(view), view.body);
    if (stick) toBottom();
  }
  function schedule(view) {
    // Chunks can come faster than a repaint is worth: at most one render every 40 ms.
    if (!view.timer) view.timer = setTimeout(function () { view.timer = 0; paint(view); }, 40);
  }
  function finish(view, kind, message) {
    if (view.ended) return;
    view.ended = true;
    clearTimeout(view.timer);
    paint(view);
    view.body.classList.remove('streaming');
    if (kind === 'error') {
      var err = el('p', 'err', message);
      err.setAttribute('role', 'alert');
      view.root.appendChild(err);
    } else if (message) {
      view.root.appendChild(el('p', 'end', message));
    } else if (!answerText(view)) {
      view.root.appendChild(el('p', 'end', 'The agent sent an empty answer.'));
    }
    log.setAttribute('aria-busy', 'false');
    if (nearBottom() || kind === 'error') toBottom();
  }
  function partsText(parts) {
    return (parts || []).map(function (p) { return typeof p.text === 'string' ? p.text : ''; }).join('');
  }
  function addPart(view, id, value, append) {
    if (!(id in view.parts)) { view.parts[id] = ''; view.order.push(id); }
    view.parts[id] = append ? view.parts[id] + value : value;
    schedule(view);
  }
  function onStatus(view, status) {
    if (!status) return;
    var said = status.message ? partsText(status.message.parts) : '';
    switch (status.state) {
      case 'TASK_STATE_SUBMITTED':
      case 'TASK_STATE_WORKING':
        if (said) {
          var stick = nearBottom();
          view.activity.appendChild(el('li', null, said));
          if (stick) toBottom();
        }
        return;
      case 'TASK_STATE_COMPLETED':
        // An agent may give its answer as the final status message instead of as an artifact.
        if (said && !answerText(view)) addPart(view, 'status', said, false);
        finish(view, 'done');
        return;
      case 'TASK_STATE_CANCELED': finish(view, 'info', 'Canceled.'); return;
      case 'TASK_STATE_FAILED': finish(view, 'error', 'The agent could not finish: ' + (said || 'the task failed without saying why.')); return;
      case 'TASK_STATE_REJECTED': finish(view, 'error', 'The agent turned this message down: ' + (said || 'it gave no reason.')); return;
      case 'TASK_STATE_AUTH_REQUIRED':
        finish(view, 'error', words
          ? (said || 'The agent needs access your ' + words.noun + ' does not give.') + ' Paste ' + words.a + ' with that access, then send again.'
          : (said || 'The agent needs access your token does not give.') + ' Sign in again, or paste a token with that access, then send again.');
        return;
      case 'TASK_STATE_INPUT_REQUIRED':
        if (said) addPart(view, 'question', said, false);
        finish(view, 'done');
        return;
    }
  }
  function onEvent(run, event) {
    var view = run.view;
    if (event.error) { finish(view, 'error', 'The Space refused the message: ' + (event.error.message || 'error ' + event.error.code) + '.'); return; }
    var r = event.result || {};
    if (r.task) {
      run.taskId = r.task.id;
      if (r.task.contextId) contextId = r.task.contextId;
      (r.task.artifacts || []).forEach(function (a) { addPart(view, a.artifactId || 'answer', partsText(a.parts), false); });
      onStatus(view, r.task.status);
    } else if (r.message) {
      if (r.message.contextId) contextId = r.message.contextId;
      addPart(view, 'message', partsText(r.message.parts), false);
      finish(view, 'done');
    } else if (r.artifactUpdate && r.artifactUpdate.artifact) {
      var a = r.artifactUpdate.artifact;
      addPart(view, a.artifactId || 'answer', partsText(a.parts), !!r.artifactUpdate.append);
    } else if (r.statusUpdate) {
      onStatus(view, r.statusUpdate.status);
    }
  }

  /** Server-Sent Events from a fetch body (EventSource cannot send the Authorization header). */
  function readEvents(body, handle) {
    var reader = body.getReader(), decoder = new TextDecoder(), buffer = '';
    function dispatch(chunk) {
      var data = chunk.split(/\r\n|\r|\n/).filter(function (l) { return l.indexOf('data:') === 0; })
        .map(function (l) { return l.slice(5).replace(/^ /, ''); }).join('\n');
      if (!data) return;
      var event;
      try { event = JSON.parse(data); } catch (e) { return; }
      handle(event);
    }
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) { buffer += decoder.decode(); if (buffer.trim()) dispatch(buffer); return; }
        buffer += decoder.decode(step.value, { stream: true });
        var events = buffer.split(/\r\n\r\n|\n\n|\r\r/);
        buffer = events.pop();
        events.forEach(dispatch);
        return pump();
      });
    }
    return pump();
  }

  function rpcHeaders(token, streaming) {
    var headers = { 'Content-Type': 'application/json', 'A2A-Version': '1.0' };
    if (streaming) headers.Accept = 'text/event-stream';
    if (token) headers.Authorization = 'Bearer ' + token;
    return headers;
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    cancelButton.disabled = !busy;
    newChat.disabled = busy;
    log.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function send() {
    var message = box.value.trim();
    if (running || !message) return;
    var agent = picker.value, token = currentToken();
    examples.hidden = true;
    box.value = '';
    addUser(message);
    var run = running = { controller: new AbortController(), taskId: null, canceled: false, view: agentView(agent) };
    setBusy(true);
    var outgoing = { messageId: uuid(), role: 'ROLE_USER', parts: [{ text: message }], metadata: { agent: agent } };
    if (contextId) outgoing.contextId = contextId;
    fetch(cfg.rpcPath, {
      method: 'POST',
      headers: rpcHeaders(token, true),
      body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'SendStreamingMessage', params: { message: outgoing } }),
      signal: run.controller.signal,
      cache: 'no-store',
      credentials: 'omit'
    }).then(function (res) {
      if (!res.ok) {
        return problem(res, !!token, words).then(function (why) {
          if (res.status === 401 && token) { setAuth(null); note(words ? 'Your ' + words.noun + ' was not accepted. Paste another.' : 'Your token was not accepted. Sign in again, or paste another.', true); }
          finish(run.view, 'error', why);
        });
      }
      if ((res.headers.get('Content-Type') || '').indexOf('text/event-stream') < 0) {
        return readJson(res).then(function (body) { if (body) onEvent(run, body); else finish(run.view, 'error', RESTARTING); });
      }
      return readEvents(res.body, function (event) { onEvent(run, event); });
    }).then(function () {
      if (!run.view.ended) finish(run.view, run.canceled ? 'info' : 'error', run.canceled ? 'Canceled.' : 'The answer stopped before it was complete. ' + RESTARTING);
    }, function () {
      finish(run.view, run.canceled ? 'info' : 'error', run.canceled ? 'Canceled.' : RESTARTING);
    }).then(function () {
      if (running === run) { running = null; setBusy(false); }
    });
  }

  function cancel() {
    var run = running;
    if (!run || run.canceled) return;
    run.canceled = true;
    cancelButton.disabled = true;
    if (!run.taskId) { run.controller.abort(); return; }
    fetch(cfg.rpcPath, {
      method: 'POST',
      headers: rpcHeaders(currentToken(), false),
      body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'CancelTask', params: { id: run.taskId } }),
      cache: 'no-store',
      credentials: 'omit'
    }).then(null, function () { /* the abort below still stops the answer here */ }).then(function () {
      // The task's canceled status ends the stream; a Space that does not send it soon is not waited for.
      setTimeout(function () { if (running === run) run.controller.abort(); }, 3000);
    });
  }

  form.addEventListener('submit', function (event) { event.preventDefault(); send(); });
  box.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  cancelButton.addEventListener('click', cancel);
  picker.addEventListener('change', pickAgent);
  newChat.addEventListener('click', function () {
    if (running) return;
    contextId = null;
    Array.prototype.slice.call(log.children).forEach(function (child) { if (child !== examples) log.removeChild(child); });
    examples.hidden = false;
    showExamples();
    box.focus();
  });

  Array.prototype.forEach.call(document.querySelectorAll('[data-copy]'), function (button) {
    button.addEventListener('click', function () {
      var source = $(button.getAttribute('data-copy'));
      function selectIt() {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = 'Selected: press Ctrl+C';
      }
      if (!navigator.clipboard || !navigator.clipboard.writeText) { selectIt(); return; }
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 1500);
      }, selectIt);
    });
  });

  pickAgent();
  showExamples();
}

if (document.body.getAttribute('data-page') === 'callback') callbackPage(); else mainPage();
})();
`;
