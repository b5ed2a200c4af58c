/*! MiniLogin browser SDK: WeChat QR login in your page (embedded) or in a popup. No dependencies. */
(function (root) {
  "use strict";
  var TEXT = {
    en: {
      loading: "Getting a QR code…", pending: "Scan the QR code with WeChat",
      scanned: "Scanned. Confirm on your phone", by: "Scanned by ",
      confirmed: "Confirmed, logging you in…", succeeded: "Logged in",
      cancelled: "You cancelled on your phone", expired: "This QR code has expired",
      failed: "Login failed", refresh: "Get a new code", alt: "QR code to scan with WeChat to log in",
      wechat: "Open in WeChat", here: "On this phone? Open WeChat to log in"
    },
    zh: {
      loading: "正在生成二维码…", pending: "请使用微信扫描二维码", scanned: "扫码成功，请在手机上确认登录",
      by: "扫码账号：", confirmed: "已确认，正在登录…", succeeded: "登录成功", cancelled: "你已在手机上取消登录",
      expired: "二维码已过期", failed: "登录失败", refresh: "刷新二维码", alt: "微信扫码登录的二维码",
      wechat: "在微信中打开", here: "在本机登录？请打开微信"
    }
  };
  var TERMINAL = { succeeded: 1, failed: 1, binding_required: 1, cancelled: 1, expired: 1 };
  // Pictures only as the server hands them out: our PNG data URLs or WeChat's avatar hosts.
  var AVATAR = /^(data:image\/png;base64,[A-Za-z0-9+/]+={0,2}|https:\/\/(thirdwx|wx)\.qlogo\.cn\/[^\s#]*)$/;

  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function random() { return b64url(crypto.getRandomValues(new Uint8Array(32))); }
  function pkce() {
    var verifier = random();
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (d) {
      return { verifier: verifier, challenge: b64url(new Uint8Array(d)) };
    });
  }
  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    e.className = "minilogin-" + cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function call(fn, arg) { if (typeof fn === "function") fn(arg); }

  function MiniLogin(options) {
    if (!(this instanceof MiniLogin)) return new MiniLogin(options);
    var o = this.options = options || {};
    if (!o.issuer || !o.clientId || !o.redirectUri) throw new Error("MiniLogin: issuer, clientId and redirectUri are required");
    this.issuer = o.issuer.replace(/\/+$/, "");
    this.origin = new URL(this.issuer).origin;
    this.mode = o.mode || "embedded";
    var lang = (o.lang || navigator.language || "zh").toLowerCase();
    this.text = TEXT[lang.indexOf("zh") === 0 ? "zh" : "en"];
    this.autoRefresh = o.autoRefresh !== false;
    this.pollInterval = o.pollInterval || 2000;
  }
  var P = MiniLogin.prototype;

  // The OIDC request of one attempt: the site's own PKCE and state, or fresh ones.
  P._request = function () {
    var o = this.options, self = this;
    var state = o.state || random();
    var done = function (p) {
      self.state = state;
      self.verifier = p.verifier;
      return { client_id: o.clientId, redirect_uri: o.redirectUri, state: state, nonce: o.nonce || "",
        code_challenge: p.challenge, code_challenge_method: "S256" };
    };
    if (o.codeChallenge) return Promise.resolve(done({ challenge: o.codeChallenge }));
    return pkce().then(done);
  };
  P._extra = function (q) {
    var o = this.options;
    if (o.scope) q.scope = o.scope;
    if (o.connection) q.connection = o.connection;
    return q;
  };
  P._success = function (code, state, iss) {
    if (state !== this.state || (iss && iss !== this.issuer)) {
      return this._error("state_mismatch", "The answer does not belong to this login attempt.");
    }
    this.close();
    call(this.options.onSuccess, { code: code, state: state, codeVerifier: this.verifier });
  };
  P._error = function (error, description) {
    call(this.options.onError, { error: error, description: description || error });
  };

  // --- embedded: the QR in the site's own page -------------------------------------------
  P.start = function () {
    var self = this;
    if (this.mode === "popup") return this._popup();
    if (this.mode === "redirect") return this._redirect();
    this._stop();
    this._ui();
    this.status = "loading";
    this.version = 0;
    this._paint();
    var attempt = this.attempt = {};
    return this._request().then(function (body) {
      return fetch(self.issuer + "/api/v1/tickets", {
        method: "POST", credentials: "include", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(self._extra(body))
      });
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      if (attempt !== self.attempt) return;
      if (!r.ok) {
        var e = r.data && r.data.error || {};
        self.status = "failed";
        self._paint();
        return self._error(e.code || "server_error", e.message);
      }
      self.ticket = r.data;
      self.status = "pending";
      var img = self.ui.img;
      img.src = r.data.qr.data_url || self.issuer + r.data.qr.image_url;
      img.hidden = false;
      self._paint();
      call(self.options.onReady, { ticket: r.data.ticket, expiresAt: r.data.expires_at, qr: img.src });
      self._listen();
    }, function () {
      if (attempt !== self.attempt) return;
      self.status = "failed";
      self._paint();
      self._error("network_error", "MiniLogin could not be reached.");
    });
  };

  P._ui = function () {
    if (this.ui) return;
    var c = this.options.container;
    c = typeof c === "string" ? document.querySelector(c) : c;
    if (!c) throw new Error("MiniLogin: embedded mode needs a container");
    var box = el("div", "box", c), ui = this.ui = { box: box }, self = this;
    ui.img = el("img", "qr", box);
    ui.img.width = ui.img.height = 200;
    ui.img.alt = this.text.alt;
    ui.img.hidden = true;
    ui.status = el("p", "status", box);
    ui.status.setAttribute("role", "status");
    ui.status.setAttribute("aria-live", "polite");
    ui.who = el("p", "scanner", box);
    ui.avatar = el("img", "avatar", ui.who);
    ui.avatar.alt = "";
    ui.avatar.width = ui.avatar.height = 32;
    ui.name = el("bdi", "name", ui.who);
    ui.refresh = el("button", "refresh", box);
    ui.refresh.type = "button";
    ui.refresh.textContent = this.text.refresh;
    ui.refresh.onclick = function () { self.start(); };
    ui.wechat = el("button", "wechat", box);
    ui.wechat.type = "button";
    ui.wechat.textContent = this.text.wechat;
    ui.wechat.onclick = function () { self.openInWeChat(); };
  };

  P._paint = function () {
    var ui = this.ui, s = this.status, t = this.text;
    if (!ui) return;
    ui.box.setAttribute("data-status", s);
    var here = s === "pending" && this.sameDevice();
    ui.status.textContent = here ? t.here : s === "binding_required" ? t.failed : t[s] || s;
    var a = this.account, shown = !!(a && (s === "scanned" || s === "confirmed"));
    ui.who.hidden = !shown;
    if (shown) {
      ui.name.textContent = a.nickname ? t.by + a.nickname : "";
      ui.avatar.hidden = !a.avatar;
      if (a.avatar) ui.avatar.src = a.avatar;
    }
    ui.refresh.hidden = !(s === "expired" || s === "cancelled" || s === "failed");
    ui.img.style.opacity = s === "pending" ? "" : "0.25";
    ui.wechat.hidden = !here;
  };

  // A phone-sized screen on a phone: the person cannot scan their own screen.
  P.sameDevice = function () {
    var o = this.options.sameDevice;
    if (o !== undefined) return !!o;
    return matchMedia("(max-width: 640px)").matches && /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);
  };

  P.openInWeChat = function () {
    var self = this;
    if (!this.ticket) return Promise.resolve();
    return fetch(this.issuer + "/api/v1/tickets/" + this.ticket.ticket + "/wechat-link", {
      method: "POST", credentials: "include"
    }).then(function (res) {
      return res.json().then(function (d) {
        if (!res.ok) { var e = d && d.error || {}; return self._error(e.code || "server_error", e.message); }
        // Only where WeChat's links lead: never somewhere else a tampered answer names.
        if (/^(weixin:\/\/dl\/business\/\?|https:\/\/wxaurl\.cn\/)/.test(d.url)) location.href = d.url;
        else self._error("server_error", "Unexpected link.");
      });
    }, function () { self._error("network_error", "MiniLogin could not be reached."); });
  };

  P._listen = function () {
    var self = this, t = this.ticket, attempt = this.attempt;
    if (!root.WebSocket) return this._poll();
    var ws = this.ws = new WebSocket(this.origin.replace(/^http/, "ws") + t.websocket_url);
    ws.onmessage = function (e) {
      try { self._onStatus(JSON.parse(e.data)); } catch (_) { /* not ours */ }
    };
    // A socket that cannot open (a proxy without WebSocket) or drops: poll instead.
    ws.onclose = function () {
      if (attempt === self.attempt && !TERMINAL[self.status]) self._poll();
    };
  };

  P._poll = function () {
    var self = this, attempt = this.attempt;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      fetch(self.issuer + self.ticket.status_url, { credentials: "include" }).then(function (res) {
        return res.ok ? res.json() : null;
      }).then(function (msg) {
        if (attempt !== self.attempt) return;
        if (msg) self._onStatus(msg);
        if (!TERMINAL[self.status]) self._poll();
      }, function () { if (attempt === self.attempt) self._poll(); });
    }, this.pollInterval);
  };

  P._onStatus = function (msg) {
    if (!msg || msg.type !== "status" || msg.ticket !== this.ticket.ticket || msg.version <= this.version) return;
    this.version = msg.version;
    var s = this.status = msg.status, o = this.options, a = msg.account;
    if (a) this.account = { nickname: a.nickname || null, avatar: AVATAR.test(a.avatar_url || "") ? a.avatar_url : null };
    this._paint();
    if (s === "scanned") call(o.onScanned, this.account || { nickname: null, avatar: null });
    else if (s === "cancelled") { this._stop(); call(o.onCancelled, { reason: "cancelled_on_phone" }); }
    else if (s === "expired") {
      this._stop();
      call(o.onExpired, { refreshing: this.autoRefresh });
      if (this.autoRefresh) this.start();
    } else if (s === "succeeded") {
      var q = new URL(msg.redirect_url).searchParams;
      this._success(q.get("code"), q.get("state"), q.get("iss"));
    } else if (TERMINAL[s]) { this._stop(); this._error(msg.reason || s, this.text.failed); }
  };

  P._stop = function () {
    clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.account = null;
  };

  // --- popup: the hosted page in a window of its own, answered by postMessage ----------------
  P._authorizeUrl = function (body, extra) {
    var q = this._extra(body);
    q.response_type = "code";
    if (!q.scope) q.scope = "openid profile phone";
    if (this.options.lang) q.lang = this.options.lang;
    for (var k in extra) q[k] = extra[k];
    return this.issuer + "/login?" + new URLSearchParams(q);
  };

  P._popup = function () {
    var self = this;
    this.close();
    // Opened at once, inside the click, so no popup blocker stops it; the address follows.
    var w = this.popup = root.open("about:blank", "minilogin", "width=460,height=640");
    if (!w) return Promise.resolve(this._error("popup_blocked", "The browser blocked the login window."));
    this.onMessage = function (e) {
      var d = e.data;
      // Only the window we opened, only from MiniLogin's exact origin.
      if (e.source !== w || e.origin !== self.origin || !d || d.type !== "authorization_response") return;
      var r = d.response || {};
      if (r.state !== self.state) return;
      if (r.error === "access_denied") { self.close(); call(self.options.onCancelled, { reason: "access_denied" }); }
      else if (r.error) { self.close(); self._error(r.error, r.error_description); }
      else self._success(r.code, r.state, r.iss);
    };
    root.addEventListener("message", this.onMessage);
    // Closed without an answer: cancelled. The page closes itself right after posting, so
    // give its message a moment to arrive first.
    this.closedTimer = setInterval(function () {
      if (!w.closed) return;
      clearInterval(self.closedTimer);
      setTimeout(function () {
        if (self.popup === w) { self.close(); call(self.options.onCancelled, { reason: "popup_closed" }); }
      }, 300);
    }, 500);
    return this._request().then(function (body) {
      w.location.href = self._authorizeUrl(body, { response_mode: "web_message" });
      call(self.options.onReady, { popup: w });
    });
  };

  // --- redirect: the hosted page in this window; the site's callback takes the code --------
  P._redirect = function () {
    var self = this;
    return this._request().then(function (body) {
      // The callback page needs the verifier the SDK made: MiniLogin.verifier(state) reads it.
      if (self.verifier) sessionStorage.setItem("minilogin:" + self.state, self.verifier);
      location.assign(self._authorizeUrl(body, {}));
    });
  };

  P.refresh = function () { return this.start(); };

  P.close = function () {
    this._stop();
    this.attempt = null;
    clearInterval(this.closedTimer);
    if (this.onMessage) root.removeEventListener("message", this.onMessage);
    this.onMessage = null;
    if (this.popup && !this.popup.closed) this.popup.close();
    this.popup = null;
  };

  MiniLogin.verifier = function (state) {
    var key = "minilogin:" + state, v = sessionStorage.getItem(key);
    sessionStorage.removeItem(key);
    return v;
  };
  MiniLogin.version = "1.0.0";
  root.MiniLogin = MiniLogin;
})(window);
