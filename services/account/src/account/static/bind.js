// The binding page: link this WeChat to an existing account (sign in) or create a new one,
// then hand the site its answer as the login page would: a redirect with the code, or a
// Web Message to the opener at the exact origin of the redirect URI. Text in zh and en.
(() => {
  "use strict";
  const TEXT = {
    zh: {
      title: "关联账号", site: (n) => `登录 ${n}`,
      intro: (n) => `${n} 还不认识你的微信。请登录你在 ${n} 的已有账号，把微信与它关联；以后用这个微信扫码就能直接登录。`,
      intro_only: (n) => `${n} 只允许已有账号登录。请登录你的账号，把微信与它关联；以后用这个微信扫码就能直接登录。`,
      link_title: "将微信关联到已有账号", login: "邮箱或手机号", password: "密码", link: "登录并关联",
      create_title: "没有账号？", create_text: "用你的微信资料创建一个新账号。", create: "创建新账号",
      back: "返回网站", lang: "English", working: "请稍候…", done: "已关联，正在返回网站…",
      delivered: "已把结果交给网站，你可以关闭这个窗口。",
      countdown: (m) => `请在 ${m} 内完成`,
      invalid_credentials: "邮箱、手机号或密码不正确。",
      sign_in_throttled: (s) => `尝试次数过多，请 ${s} 秒后再试。`,
      user_disabled: "这个账号已被停用，无法关联。请联系网站。",
      missing: "请填写邮箱或手机号和密码。",
      new_account_not_allowed: "这个网站不允许创建新账号，请关联已有账号。",
      failed: "出了点问题，请稍后再试。",
      binding_expired: "关联账号的时间已过。请回到网站重新登录。",
      binding_not_open: "这次登录已经结束或不需要关联账号。请回到网站重新登录。",
      ticket_not_found: "这次登录已经结束。请回到网站重新登录。",
      not_found: "这次登录已经结束。请回到网站重新登录。",
      unauthorized: "这个页面只能在开始登录的浏览器中打开。请回到网站重新登录。",
      forbidden: "这个页面只能在开始登录的浏览器中打开。请回到网站重新登录。",
      problem_title: "无法关联账号",
    },
    en: {
      title: "Link your account", site: (n) => `Log in to ${n}`,
      intro: (n) => `${n} does not know your WeChat yet. Sign in to your existing ${n} account to link WeChat to it; from then on, scanning with this WeChat logs you straight in.`,
      intro_only: (n) => `${n} lets only existing accounts log in. Sign in to your account to link WeChat to it; from then on, scanning with this WeChat logs you straight in.`,
      link_title: "Link WeChat to your existing account", login: "Email or phone number", password: "Password", link: "Sign in and link",
      create_title: "No account yet?", create_text: "Create a new account from your WeChat profile.", create: "Create a new account",
      back: "Back to the site", lang: "中文", working: "One moment…", done: "Linked. Taking you back to the site…",
      delivered: "The site has the result. You can close this window.",
      countdown: (m) => `Finish within ${m}`,
      invalid_credentials: "The email address, phone number or password is wrong.",
      sign_in_throttled: (s) => `Too many attempts. Try again in ${s} s.`,
      user_disabled: "This account is disabled and cannot be linked. Please contact the site.",
      missing: "Enter your email address or phone number, and your password.",
      new_account_not_allowed: "This site does not allow new accounts: link an existing one.",
      failed: "Something went wrong. Please try again in a moment.",
      binding_expired: "The time to link an account has passed. Go back to the site and log in again.",
      binding_not_open: "This login has ended or needs no linking. Go back to the site and log in again.",
      ticket_not_found: "This login has ended. Go back to the site and log in again.",
      not_found: "This login has ended. Go back to the site and log in again.",
      unauthorized: "This page opens only in the browser that started the login. Go back to the site and log in again.",
      forbidden: "This page opens only in the browser that started the login. Go back to the site and log in again.",
      problem_title: "Cannot link an account",
    },
  };
  // What the site is told when the person leaves without linking (RFC 6749 4.1.2.1).
  const DECLINED = ["access_denied", "The WeChat user did not link or create an account."];
  const ENDED = ["binding_expired", "binding_not_open", "ticket_not_found", "not_found", "unauthorized", "forbidden"];

  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("app").dataset.config || "{}");
  const reply = config.reply || {};
  const wanted = config.lang || navigator.language || "zh";
  let lang = wanted.toLowerCase().startsWith("zh") ? "zh" : "en";
  let message = config.problem || ""; // a TEXT key, or [key, arg]
  let messageOk = false;
  let busy = false;
  let ended = Boolean(config.problem);
  const deadline = performance.now() + (config.expiresIn || 0) * 1000;

  const t = (key, ...args) => {
    const v = TEXT[lang][key] === undefined ? TEXT[lang].failed : TEXT[lang][key];
    return typeof v === "function" ? v(...args) : v;
  };
  const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const remaining = () => Math.max(0, Math.ceil((deadline - performance.now()) / 1000));

  function paint() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    const site = config.site || "";
    $("title").textContent = config.problem ? t("problem_title") : t("title");
    document.title = site ? `${t("title")} · ${t("site", site)}` : t("title");
    $("site").textContent = site ? t("site", site) : "";
    $("intro").textContent = config.problem ? "" : t(config.canCreate ? "intro" : "intro_only", site);
    $("intro").hidden = Boolean(config.problem);
    $("link-box").hidden = ended;
    $("create-box").hidden = ended || !config.canCreate;
    $("link-title").textContent = t("link_title");
    $("login-label").textContent = t("login");
    $("password-label").textContent = t("password");
    $("link").textContent = busy ? t("working") : t("link");
    $("create-title").textContent = t("create_title");
    $("create-text").textContent = t("create_text");
    $("create").textContent = t("create");
    for (const id of ["link", "create"]) $(id).disabled = busy;
    const m = Array.isArray(message) ? t(message[0], message[1]) : message ? t(message) : "";
    $("message").textContent = m;
    $("message").className = messageOk ? "ok" : "";
    const live = !ended && config.expiresIn > 0;
    $("countdown").hidden = !live;
    if (live) $("countdown").textContent = t("countdown", clock(remaining()));
    $("back").hidden = !config.reply || messageOk;
    $("back").textContent = t("back");
    $("lang").textContent = t("lang");
  }

  function deliver(answer) {
    const full = Object.assign({}, answer);
    if (reply.state) full.state = reply.state;
    full.iss = reply.iss; // RFC 9207
    if (reply.mode === "web_message" && window.opener) {
      window.opener.postMessage({ type: "authorization_response", response: full }, reply.origin);
      message = "delivered";
      paint();
      window.close();
      return;
    }
    const url = new URL(reply.redirectUri);
    for (const [k, v] of Object.entries(full)) url.searchParams.set(k, v);
    location.replace(url.toString());
  }

  async function send(path, body) {
    busy = true;
    message = "";
    paint();
    let res = null;
    let data = null;
    try {
      res = await fetch(`/bind/${config.ticket}/${path}`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      data = await res.json().catch(() => null);
    } catch (_) {
      res = null;
    }
    busy = false;
    if (res && res.ok && data && data.redirect_url) {
      ended = true;
      messageOk = true;
      message = "done";
      paint();
      return deliver({ code: new URL(data.redirect_url).searchParams.get("code") });
    }
    const code = (data && data.error && data.error.code) || "failed";
    if (code === "sign_in_throttled") {
      message = [code, parseInt(res.headers.get("Retry-After") || "1", 10)];
    } else {
      message = code;
    }
    if (ENDED.includes(code)) ended = true;
    paint();
    if (!ended && path === "sign-in") $("password").focus();
  }

  $("link-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const login = $("login").value.trim();
    const password = $("password").value;
    if (!login || !password) {
      message = "missing";
      paint();
      return;
    }
    send("sign-in", { login, password });
  });
  $("create").addEventListener("click", () => send("new-account", {}));
  $("back").addEventListener("click", () => deliver({ error: DECLINED[0], error_description: DECLINED[1] }));
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; paint(); });
  setInterval(() => {
    if (!ended && config.expiresIn > 0 && remaining() === 0) {
      ended = true;
      message = "binding_expired";
    }
    paint();
  }, 1000);
  paint();
})();
