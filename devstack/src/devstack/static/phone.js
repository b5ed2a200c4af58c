// The phone: pick a sandbox WeChat user, "scan" a QR, see who asks, confirm or cancel.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("phone").dataset.config);
  const query = new URLSearchParams(location.search);
  let scan = null;

  const post = async (url, body) => {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok || (data.errcode && data.errcode !== 0)) {
      throw new Error((data.error && data.error.message) || data.errmsg || `HTTP ${res.status}`);
    }
    return data;
  };
  const say = (text) => { $("result").textContent = text; };

  function ticketFrom(content) {
    const text = content.trim();
    if (/^[0-9A-Za-z]{22}$/.test(text)) return text;
    try {
      const m = new URL(text).pathname.match(/\/q\/([0-9A-Za-z]{22})$/);
      if (m) return m[1];
    } catch (_) { /* not a URL */ }
    return null;
  }

  let users = {};
  // The nickname the user would type into the nickname component.
  const profile = () => ({ nickname: (users[$("user").value] || {}).nickname });

  // The avatar the user would pick: as the mini program does, the picture is uploaded to
  // /mp/v1/avatar and the URL it hands back goes with the confirm (scan-gateway accepts
  // no other picture but WeChat's own). The sandbox's avatar is drawn at 96 px first.
  async function uploadAvatar() {
    const u = users[$("user").value];
    if (!u || !u.avatar_url) return null;
    try {
      const img = new Image();
      img.src = u.avatar_url;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 96;
      canvas.getContext("2d").drawImage(img, 0, 0, 96, 96);
      const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      const form = new FormData();
      form.append("ticket", scan.ticket);
      form.append("session", scan.session);
      form.append("avatar", png, "avatar.png");
      const res = await fetch("/mp/v1/avatar", { method: "POST", body: form });
      return res.ok ? (await res.json()).url : null;
    } catch (_) {
      return null; // the login goes on without a picture
    }
  }

  async function loadUsers() {
    const res = await fetch("/phone/sandbox/users");
    const data = await res.json();
    const sel = $("user");
    for (const u of data.users) {
      users[u.openid] = u;
      const opt = document.createElement("option");
      opt.value = u.openid;
      opt.textContent = `${u.nickname} (${u.openid.slice(0, 10)}…)`;
      sel.appendChild(opt);
    }
  }

  $("scan").addEventListener("click", async () => {
    say("");
    const ticket = ticketFrom($("qr").value);
    if (!ticket) { say("That is not a MiniLogin QR code."); return; }
    try {
      const { code } = await post("/phone/sandbox/login-code", { appid: config.appid, openid: $("user").value });
      scan = await post("/mp/v1/scan", { ticket, code, launch_scene: Number($("scene").value), ...profile() });
    } catch (e) { say(e.message); return; }
    $("step-scan").hidden = true;
    $("step-confirm").hidden = false;
    $("site-name").textContent = scan.site.name;
    $("site-app").textContent = scan.site.app || "";
    if (scan.site.logo_url) $("site-logo").src = scan.site.logo_url; else $("site-logo").hidden = true;
    $("ask").textContent = `Log in to ${scan.site.name} on the computer below?`;
    $("req-ip").textContent = scan.request.ip;
    $("req-place").textContent = scan.request.place || "Unknown";
    $("req-browser").textContent = scan.request.browser;
    $("req-time").textContent = new Date(scan.request.time).toLocaleString();
    $("phone-row").hidden = !scan.phone.requested;
    $("risk").hidden = !scan.risk.warning;
    $("confirm").disabled = scan.risk.warning;
  });

  $("risk-ok").addEventListener("change", (e) => { $("confirm").disabled = !e.target.checked; });

  $("confirm").addEventListener("click", async () => {
    const body = { ticket: scan.ticket, session: scan.session };
    try {
      if ($("share-phone").checked) {
        const phone = await post("/phone/sandbox/phone-code", { appid: config.appid, openid: $("user").value });
        body.phone_code = phone.code;
      }
      const avatar = await uploadAvatar();
      if (avatar) body.avatar_url = avatar;
      await post("/mp/v1/confirm", body);
      say("✅ Confirmed. Look at the computer.");
      $("step-confirm").hidden = true;
    } catch (e) { say(e.message); }
  });

  $("cancel").addEventListener("click", async () => {
    try {
      await post("/mp/v1/cancel", { ticket: scan.ticket, session: scan.session });
      say("Login cancelled.");
      $("step-confirm").hidden = true;
    } catch (e) { say(e.message); }
  });

  $("qr").value = query.get("q") || query.get("scene") || "";
  loadUsers().catch((e) => say("Cannot reach the WeChat sandbox: " + e.message));
})();
