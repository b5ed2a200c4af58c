// The hosted login page (the authorization endpoint's face): create a ticket, show its QR and
// a countdown, follow it over the WebSocket (or by polling when that is blocked), and hand
// every outcome back to the site: a code, or an OAuth error with state and iss.
(() => {
  "use strict";
  const TEXT = {
    zh: {
      title: "微信扫码登录", hint: "请使用微信扫一扫登录", loading: "正在生成二维码…",
      retrying: (s) => `登录服务暂时繁忙，${s} 秒后自动重试…`,
      pending: "请使用微信扫描二维码", scanned: "扫码成功，请在手机上确认登录",
      confirmed: "已确认，正在登录…", succeeded: "登录成功，正在跳转…",
      cancelled: "登录已在手机上取消，正在返回网站…",
      expired: "二维码已过期，请获取新的二维码",
      account_not_found: "这个网站只允许已有账号登录，你的微信还没有关联账号。正在返回网站…",
      binding_required: "请先关联你在这个网站的账号，正在打开关联页面…",
      user_disabled: "你的账号已被停用，无法登录。请联系网站。正在返回网站…",
      wechat_refused: "微信拒绝了这次登录请求，没有登录任何账号。请稍后重试。正在返回网站…",
      internal_error: "网站的登录服务出了问题，没有登录任何账号。请稍后重试。正在返回网站…",
      failed: "登录没有成功，正在返回网站…",
      unavailable: "登录服务暂时不可用，请稍后再试。正在返回网站…",
      login_required: "需要用微信扫码才能登录，正在返回网站…",
      rejected: (code) => `网站发来的登录请求无法处理（${code}），正在返回网站…`,
      delivered: "已把结果交给网站，你可以关闭这个窗口。",
      new_code: "获取新二维码", back: "返回网站", back_now: "立即返回网站",
      scanned_by: "扫码账号：", site: (n) => `登录 ${n}`,
      countdown: (m) => `二维码将在 ${m} 后过期`,
      offline: "连接中断，正在重新连接…",
      same_device: "正在用这部手机浏览？无法扫描自己的屏幕，可以直接在微信中打开。",
      open_wechat: "在微信中打开", tap_wechat: "点这里打开微信", opening: "正在打开微信…",
      opened: "如果微信没有打开，请确认已安装微信，或在电脑上打开本页扫码。",
      no_link: "暂时无法直接打开微信。请在电脑上打开本页，再用手机微信扫码。",
      lang: "English", phone: "打开手机模拟器（开发用）",
    },
    en: {
      title: "Log in with WeChat", hint: "Scan with WeChat to log in", loading: "Getting a QR code…",
      retrying: (s) => `The login service is busy. Trying again in ${s} s…`,
      pending: "Scan the QR code with WeChat", scanned: "Scanned. Confirm on your phone",
      confirmed: "Confirmed, logging you in…", succeeded: "Logged in, taking you back…",
      cancelled: "The login was cancelled on the phone. Taking you back to the site…",
      expired: "This QR code has expired. Get a new one to log in",
      account_not_found: "This site only lets existing accounts log in, and your WeChat is not linked to one. Taking you back…",
      binding_required: "Link your account on this site first. Opening the linking page…",
      user_disabled: "Your account is disabled, so you cannot log in. Please contact the site. Taking you back…",
      wechat_refused: "WeChat refused this login request; nobody was logged in. Please try again later. Taking you back…",
      internal_error: "The site's login service had a problem; nobody was logged in. Please try again later. Taking you back…",
      failed: "The login did not succeed. Taking you back to the site…",
      unavailable: "Logging in is not possible just now; please try again later. Taking you back…",
      login_required: "You need to scan with WeChat to log in. Taking you back to the site…",
      rejected: (code) => `The site's login request could not be handled (${code}). Taking you back…`,
      delivered: "The site has the result. You can close this window.",
      new_code: "Get a new code", back: "Back to the site", back_now: "Back to the site now",
      scanned_by: "Scanned by ", site: (n) => `Log in to ${n}`,
      countdown: (m) => `The code expires in ${m}`,
      offline: "Connection lost, reconnecting…",
      same_device: "Browsing on this phone? You cannot scan your own screen: open WeChat directly.",
      open_wechat: "Open in WeChat", tap_wechat: "Tap here to open WeChat", opening: "Opening WeChat…",
      opened: "If WeChat did not open, check that it is installed, or open this page on a computer and scan.",
      no_link: "WeChat cannot be opened directly just now. Open this page on a computer and scan the code with WeChat.",
      lang: "中文", phone: "Open the phone simulator (development)",
    },
  };
  // What the site is told (RFC 6749 section 4.1.2.1), for each way a login can end here.
  const ANSWERS = {
    cancelled: ["access_denied", "The login was cancelled or refused on the user's phone."],
    account_not_found: ["access_denied", "The connection lets only existing accounts log in and this WeChat user has none."],
    user_disabled: ["access_denied", "The user's account is disabled."],
    wechat_refused: ["access_denied", "WeChat refused a request made for this login."],
    internal_error: ["server_error", "The login could not be completed because of an internal error."],
    failed: ["access_denied", "The login failed."],
    unavailable: ["temporarily_unavailable", "The login service is temporarily unavailable; try again later."],
    expired: ["access_denied", "The QR code expired and the user went back to the site."],
  };
  const TERMINAL = ["succeeded", "failed", "binding_required", "cancelled", "expired"];
  const TRIES = 4; // creating a ticket: a busy or unreachable service is retried this often
  const WAIT_CAP = 10; // seconds, whatever Retry-After says
  const POLL_MS = 2000;
  const LEAVE_MS = 1500; // how long an outcome is shown before the page returns to the site

  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("app").dataset.config || "{}");
  const reply = config.reply || {};
  const query = new URLSearchParams(location.search);
  // A phone: narrow and touch-driven. A narrow popup on a computer (pointer: fine) can
  // still be scanned, so it is not offered the same-device path.
  const phoneSized = window.matchMedia("(max-width: 600px) and (pointer: coarse)");
  const wanted = query.get("lang") || config.lang || navigator.language || "zh";
  let lang = wanted.toLowerCase().startsWith("zh") ? "zh" : "en";

  let generation = 0; // one per ticket: callbacks of an earlier one are ignored
  let ticket = null;
  let status = "loading";
  let outcome = ""; // the TEXT key for how it ended, when it did
  let lastVersion = 0;
  let account = null; // the account a returning scanner logs in to, as the server knows it
  let retryIn = 0;
  let deadline = 0; // performance.now() at which the code expires
  let socket = null;
  let socketUp = false;
  let socketFailures = 0;
  let pollTimer = null;
  let reconnectTimer = null;
  let tickTimer = null;
  let leaveTimer = null;
  let sameDeviceNote = "";
  let focusedOverlay = "";
  // Our own re-encoded PNGs and WeChat's avatar hosts only, as the server allows them.
  const AVATAR = /^(data:image\/png;base64,[A-Za-z0-9+/]+={0,2}|https:\/\/(thirdwx|wx)\.qlogo\.cn\/[^\s#]*)$/;

  const t = (key, ...args) => {
    const v = TEXT[lang][key];
    return typeof v === "function" ? v(...args) : v;
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function statusText() {
    if (status === "loading") return retryIn ? t("retrying", retryIn) : t("loading");
    if (outcome) return outcome.startsWith("rejected:") ? t("rejected", outcome.slice(9)) : t(outcome);
    return t(status) || status;
  }

  function paint() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    const name = ticket ? ticket.connection.display_name : config.site || "";
    document.title = name ? `${t("site", name)} · ${t("title")}` : t("title");
    $("title").textContent = t("title");
    $("lang").textContent = t("lang");
    $("hint").textContent = t("hint");
    $("hint").hidden = status !== "pending" || Boolean(outcome);
    $("site").textContent = name ? t("site", name) : "";
    paintOverlay();
    const st = $("status");
    st.textContent = statusText();
    st.className = status === "succeeded" && !outcome ? "ok" : outcome || status === "expired" ? "bad" : "";
    // With the overlay up its text says the same: the line stays for screen readers only.
    st.classList.toggle("sr-only", !$("overlay").hidden);
    const live = ["pending", "scanned"].includes(status) && !outcome;
    $("countdown").hidden = !live || !deadline;
    if (live && deadline) $("countdown").textContent = t("countdown", clock(remaining()));
    $("link-state").hidden = !live || socketUp || !ticket;
    $("link-state").textContent = t("offline");
    paintScanner();
    paintSameDevice(live);
  }

  function paintOverlay() {
    const expired = status === "expired" && !outcome;
    const leaving = Boolean(outcome) && !["delivered", "binding_required"].includes(outcome);
    const shown = expired || leaving || ["delivered", "binding_required"].includes(outcome);
    $("overlay").hidden = !shown;
    $("qr").classList.toggle("faded", shown);
    $("qr").classList.toggle("used", ["scanned", "confirmed", "succeeded"].includes(status));
    $("overlay-text").textContent = shown ? statusText() : "";
    const primary = $("primary");
    const secondary = $("secondary");
    primary.hidden = !(expired || leaving);
    primary.textContent = expired ? t("new_code") : t("back_now");
    secondary.hidden = !expired;
    secondary.textContent = t("back");
    // Keyboard and screen-reader users land on what they can do next, once per screen.
    const screen = shown ? (expired ? "expired" : outcome) : "";
    if (screen && screen !== focusedOverlay && !primary.hidden) primary.focus();
    focusedOverlay = screen;
  }

  function paintScanner() {
    const shown = account && ["scanned", "confirmed"].includes(status) && !outcome;
    $("scanner").hidden = !shown;
    if (!shown) return;
    // Text only (textContent): a name is never parsed as HTML.
    $("scanner-by").textContent = account.nickname ? t("scanned_by") : "";
    $("scanner-name").textContent = account.nickname || "";
    const img = $("scanner-avatar");
    const src = typeof account.avatar_url === "string" && AVATAR.test(account.avatar_url) ? account.avatar_url : "";
    if (src && img.getAttribute("src") !== src) img.src = src;
    img.hidden = !src;
  }

  function paintSameDevice(live) {
    // A phone cannot scan its own screen: offer WeChat's URL Scheme instead.
    $("same-device").hidden = !(live && status === "pending" && phoneSized.matches);
    $("same-device-text").textContent = t("same_device");
    $("open-wechat").textContent = t("open_wechat");
    $("same-device-note").textContent = sameDeviceNote ? t(sameDeviceNote) : "";
    $("wechat-link").textContent = t("tap_wechat");
  }

  const remaining = () => Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
  const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

  // --- handing the answer to the site -------------------------------------------------

  function answerFor(fields) {
    const answer = Object.assign({}, fields);
    if (reply.state) answer.state = reply.state;
    answer.iss = reply.iss; // RFC 9207
    return answer;
  }

  function deliver(answer) {
    stopFollowing();
    clearTimeout(leaveTimer);
    if (reply.mode === "web_message") {
      // Web Message Response Mode: only the exact origin of the registered redirect URI.
      const target = window.opener || (window.parent !== window ? window.parent : null);
      if (target) {
        target.postMessage({ type: "authorization_response", response: answer }, reply.origin);
        outcome = "delivered";
        paint();
        if (window.opener) window.close();
        return;
      }
      // Opened without an opener (a new tab, a blocked popup): the redirect still gets there.
    }
    const url = new URL(reply.redirectUri);
    for (const [k, v] of Object.entries(answer)) url.searchParams.set(k, v);
    location.replace(url.toString());
  }

  // Show why, then go back to the site on our own (or at once with the button).
  function leave(key, error, description) {
    outcome = key;
    stopFollowing();
    paint();
    const answer = answerFor({ error, error_description: description });
    $("primary").onclick = () => deliver(answer);
    leaveTimer = setTimeout(() => deliver(answer), LEAVE_MS);
  }

  // Why a login failed, as a person is told it (the account service's reasons).
  function failure(reason) {
    if (reason === "account_not_found") return "account_not_found";
    // Confirmed, but the account service never finished: our fault, worth a retry.
    if (reason === "login_not_completed") return "unavailable";
    if (reason === "user_disabled") return "user_disabled";
    if (reason.startsWith("wechat_")) return "wechat_refused";
    return "internal_error";
  }

  // The connection asks to bind: this browser goes on on our binding page (the same
  // binding cookie and ticket), which ends with the site's answer as this page would.
  function toBinding() {
    outcome = "binding_required";
    stopFollowing();
    paint();
    location.assign(`/bind/${ticket.ticket}?lang=${lang}`);
  }

  function leaveAs(key) {
    const [error, description] = ANSWERS[key];
    leave(key, error, description);
  }

  function succeed(msg) {
    status = "succeeded";
    paint();
    const code = new URL(msg.redirect_url).searchParams.get("code");
    deliver(answerFor({ code }));
  }

  // --- following the ticket -----------------------------------------------------------

  function onStatus(msg, gen) {
    if (gen !== generation || !msg || msg.type !== "status" || msg.ticket !== ticket.ticket) return;
    if (msg.version <= lastVersion || outcome) return;
    lastVersion = msg.version;
    status = msg.status;
    if (msg.account) account = msg.account;
    if (status === "succeeded") return succeed(msg);
    if (status === "cancelled") return leaveAs("cancelled");
    if (status === "binding_required") return toBinding();
    if (status === "failed") return leaveAs(failure(msg.reason || ""));
    if (status === "expired") stopFollowing();
    paint();
  }

  async function refreshStatus(gen) {
    let res;
    try {
      res = await fetch(ticket.status_url, { credentials: "same-origin", cache: "no-store" });
    } catch (_) {
      return; // offline for a moment: the next poll or reconnect tries again
    }
    if (gen !== generation) return;
    if (res.ok) onStatus(await res.json(), gen);
    else if (res.status === 404 && !TERMINAL.includes(status)) {
      // Gone from the store: its lifetime (and the retention after it) is over.
      onStatus({ type: "status", ticket: ticket.ticket, status: "expired", version: lastVersion + 1 }, gen);
    }
  }

  function startPolling(gen) {
    if (pollTimer) return;
    refreshStatus(gen);
    pollTimer = setInterval(() => refreshStatus(gen), POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect(gen) {
    if (typeof WebSocket !== "function") return startPolling(gen);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + ticket.websocket_url);
    } catch (_) {
      return startPolling(gen);
    }
    socket = ws;
    ws.onopen = () => {
      if (gen !== generation) return;
      socketUp = true;
      socketFailures = 0;
      stopPolling(); // the server sends the current status on connect
      paint();
    };
    ws.onmessage = (e) => {
      try { onStatus(JSON.parse(e.data), gen); } catch (_) { /* not ours: ignore */ }
    };
    ws.onclose = () => {
      if (gen !== generation || socket !== ws) return;
      socket = null;
      socketUp = false;
      if (TERMINAL.includes(status) || outcome) return;
      // Until the socket is back the status is fetched every few seconds, so a blocked
      // WebSocket (a proxy, a firewall) still gets every result; reconnects back off.
      startPolling(gen);
      socketFailures += 1;
      const delay = Math.min(15000, 500 * 2 ** socketFailures) * (0.75 + Math.random() / 2);
      reconnectTimer = setTimeout(() => {
        refreshStatus(gen);
        connect(gen);
      }, delay);
      paint();
    };
  }

  function stopFollowing() {
    stopPolling();
    clearTimeout(reconnectTimer);
    clearInterval(tickTimer);
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    socket = null;
    socketUp = false;
  }

  function tick(gen) {
    if (gen !== generation) return;
    if (["pending", "scanned"].includes(status) && remaining() === 0) {
      // The server expires it on the same clock; ask, and say so ourselves if it cannot answer.
      clearInterval(tickTimer);
      refreshStatus(gen).then(() => {
        if (gen === generation && ["pending", "scanned"].includes(status)) {
          onStatus({ type: "status", ticket: ticket.ticket, status: "expired", version: lastVersion + 1 }, gen);
        }
      });
    }
    paint();
  }

  // --- creating the ticket ------------------------------------------------------------

  async function createTicket(gen) {
    for (let attempt = 1; ; attempt += 1) {
      let res = null;
      let data = null;
      try {
        res = await fetch("/api/v1/tickets", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(config.request),
        });
        data = await res.json().catch(() => null);
      } catch (_) {
        res = null; // unreachable: retried like a 503
      }
      if (gen !== generation) return null;
      if (res && res.status === 201) return data;
      if (res && res.status < 500 && res.status !== 429) {
        const message = (data && data.error && data.error.message) || `HTTP ${res.status}`;
        leave("rejected:invalid_request", "invalid_request", message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ""));
        return null;
      }
      if (attempt >= TRIES) {
        leaveAs("unavailable");
        return null;
      }
      const said = res ? parseInt(res.headers.get("Retry-After") || "", 10) : NaN;
      let wait = Math.min(WAIT_CAP, Number.isFinite(said) && said > 0 ? said : 2 ** attempt);
      while (wait > 0) {
        retryIn = wait;
        paint();
        await sleep(1000);
        if (gen !== generation) return null;
        wait -= 1;
      }
      retryIn = 0;
    }
  }

  async function start() {
    generation += 1;
    const gen = generation;
    stopFollowing();
    status = "loading";
    outcome = "";
    lastVersion = 0;
    account = null;
    deadline = 0;
    sameDeviceNote = "";
    $("qr").hidden = true;
    paint();
    const created = await createTicket(gen);
    if (!created) return;
    ticket = created;
    deadline = performance.now() + ticket.expires_in * 1000;
    const img = $("qr");
    img.src = ticket.qr.data_url || ticket.qr.image_url;
    img.alt = t("hint");
    img.hidden = false;
    status = "pending";
    lastVersion = ticket.version || 1;
    paint();
    if (config.phoneSimulatorUrl) {
      const link = $("phone-link");
      const param = ticket.qr.content ? "q=" + encodeURIComponent(ticket.qr.content) : "scene=" + encodeURIComponent(ticket.ticket);
      link.href = config.phoneSimulatorUrl + "?" + param;
      link.textContent = t("phone");
      $("dev").hidden = false;
    }
    tickTimer = setInterval(() => tick(gen), 1000);
    connect(gen);
  }

  async function openInWeChat() {
    sameDeviceNote = "opening";
    paint();
    let link = null;
    try {
      const res = await fetch(`/api/v1/tickets/${ticket.ticket}/wechat-link`, {
        method: "POST", credentials: "same-origin",
      });
      if (res.ok) link = await res.json();
    } catch (_) {
      link = null;
    }
    if (link && typeof link.url === "string" && /^(weixin:\/\/|https:\/\/)/.test(link.url)) {
      // Also a link to tap: some browsers open another app only from a tap of the person's.
      const a = $("wechat-link");
      a.href = link.url;
      a.hidden = false;
      sameDeviceNote = "opened";
      location.href = link.url;
    } else {
      sameDeviceNote = "no_link";
    }
    paint();
  }

  $("primary").addEventListener("click", () => {
    if (status === "expired" && !outcome) start();
  });
  $("secondary").addEventListener("click", () => deliver(answerFor({
    error: ANSWERS.expired[0], error_description: ANSWERS.expired[1],
  })));
  $("open-wechat").addEventListener("click", openInWeChat);
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; paint(); });
  phoneSized.addEventListener("change", paint);

  if (config.response) {
    // The server refused the request: tell the site (it never needed a code).
    const key = config.response.error === "login_required" ? "login_required" : `rejected:${config.response.error}`;
    outcome = key;
    paint();
    // At once: a popup or a hidden frame waits on this, and there is nothing to show first.
    deliver(config.response);
  } else {
    start();
  }
})();
