// The hosted login page: create a ticket, show its QR, wait on the WebSocket, finish.
(() => {
  "use strict";
  const TEXT = {
    zh: {
      title: "微信扫码登录", hint: "请使用微信扫一扫登录", loading: "正在生成二维码…",
      pending: "请使用微信扫描二维码", scanned: "扫码成功，请在手机上确认登录",
      confirmed: "已确认，正在登录…", succeeded: "登录成功，正在跳转…",
      cancelled: "你已在手机上取消登录", expired: "二维码已过期", failed: "登录失败",
      binding_required: "需要先绑定已有账号", refresh: "刷新二维码", retry: "重试",
      scanned_by: "扫码账号：",
      site: (n) => `登录 ${n}`, offline: "连接中断，正在重连…", lang: "English",
      phone: "打开手机模拟器（开发用）",
    },
    en: {
      title: "Log in with WeChat", hint: "Scan with WeChat to log in", loading: "Getting a QR code…",
      pending: "Scan the QR code with WeChat", scanned: "Scanned. Confirm on your phone",
      confirmed: "Confirmed, logging you in…", succeeded: "Logged in, taking you back…",
      cancelled: "You cancelled on your phone", expired: "This QR code has expired",
      failed: "Login failed", binding_required: "Bind an existing account first",
      scanned_by: "Scanned by ",
      refresh: "Get a new code", retry: "Retry", site: (n) => `Log in to ${n}`,
      offline: "Connection lost, reconnecting…", lang: "中文",
      phone: "Open the phone simulator (development)",
    },
  };
  const $ = (id) => document.getElementById(id);
  const root = $("app");
  const config = JSON.parse(root.dataset.config || "{}");
  const query = new URLSearchParams(location.search);
  let lang = (query.get("lang") || navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
  let ticket = null;
  let socket = null;
  let lastVersion = 0;
  let status = "loading";
  let retries = 0;
  let errorText = "";
  // The account a returning scanner logs in to, as the server knows it. What a phone says
  // of itself (msg.scanner) is not shown: anyone can type someone else's name.
  let account = null;
  // Our own re-encoded PNGs and WeChat's avatar hosts only, as the server allows them.
  const AVATAR = /^(data:image\/png;base64,[A-Za-z0-9+/]+={0,2}|https:\/\/(thirdwx|wx)\.qlogo\.cn\/[^\s#]*)$/;

  const t = (key) => TEXT[lang][key];
  const terminal = (s) => ["succeeded", "failed", "binding_required", "cancelled", "expired"].includes(s);

  function paint() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    $("title").textContent = t("title");
    $("lang").textContent = t("lang");
    $("hint").textContent = t("hint");
    $("site").textContent = ticket ? t("site")(ticket.connection.display_name) : "";
    const st = $("status");
    st.textContent = errorText || (status === "loading" ? t("loading") : t(status) || status);
    st.className = status === "succeeded" ? "ok" : (errorText || ["failed", "expired", "cancelled"].includes(status)) ? "bad" : "";
    const over = ["expired", "cancelled", "failed", "binding_required"].includes(status) || errorText;
    $("overlay").hidden = !over;
    $("overlay-text").textContent = errorText || t(status) || "";
    $("refresh").hidden = !over;
    $("refresh").textContent = errorText ? t("retry") : t("refresh");
    paintScanner();
  }

  function paintScanner() {
    const shown = account && ["scanned", "confirmed"].includes(status) && !errorText;
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

  function finish(msg) {
    if (ticket.mode === "popup" && window.opener) {
      // Hand the result only to the exact origin of the registered redirect URI.
      const target = new URL(query.get("redirect_uri"));
      const result = new URL(msg.redirect_url);
      window.opener.postMessage({
        type: "minilogin:result",
        code: result.searchParams.get("code"),
        state: result.searchParams.get("state"),
      }, target.origin);
      window.close();
      return;
    }
    location.replace(msg.redirect_url);
  }

  function onStatus(msg) {
    if (msg.type !== "status" || msg.ticket !== ticket.ticket || msg.version <= lastVersion) return;
    lastVersion = msg.version;
    status = msg.status;
    if (msg.account) account = msg.account;
    paint();
    if (status === "succeeded") finish(msg);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + ticket.websocket_url);
    socket.onopen = () => { retries = 0; };
    socket.onmessage = (e) => { try { onStatus(JSON.parse(e.data)); } catch (_) { /* ignore junk */ } };
    socket.onclose = () => {
      if (terminal(status) || retries > 6) return;
      // The server sends the current status on connect, so nothing is lost meanwhile.
      retries += 1;
      setTimeout(connect, Math.min(250 * 2 ** retries, 5000));
    };
  }

  async function start() {
    errorText = "";
    status = "loading";
    lastVersion = 0;
    account = null;
    $("qr").hidden = true;
    paint();
    const body = {};
    for (const k of ["client_id", "redirect_uri", "state", "nonce", "code_challenge",
      "code_challenge_method", "connection", "mode"]) {
      const v = query.get(k);
      if (v !== null && v !== "") body[k] = v;
    }
    let res, data;
    try {
      res = await fetch("/api/v1/tickets", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      data = await res.json();
    } catch (_) {
      errorText = t("offline");
      paint();
      return;
    }
    if (!res.ok) {
      errorText = (data && data.error && data.error.message) || t("failed");
      status = "failed";
      paint();
      return;
    }
    ticket = data;
    ticket.mode = body.mode || "redirect";
    const img = $("qr");
    img.src = ticket.qr.data_url || ticket.qr.image_url;
    img.alt = t("hint");
    img.hidden = false;
    status = "pending";
    paint();
    if (config.phoneSimulatorUrl) {
      const link = $("phone-link");
      const param = ticket.qr.content ? "q=" + encodeURIComponent(ticket.qr.content) : "scene=" + encodeURIComponent(ticket.ticket);
      link.href = config.phoneSimulatorUrl + "?" + param;
      link.textContent = t("phone");
      $("dev").hidden = false;
    }
    if (socket) { socket.onclose = null; socket.close(); }
    connect();
  }

  $("refresh").addEventListener("click", start);
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; paint(); });
  start();
})();
