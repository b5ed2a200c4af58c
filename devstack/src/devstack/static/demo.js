// The demo shop logs in as a customer's site would, with MiniLogin's SDK: the QR code in
// this page (embedded) or the hosted page in a popup. The server made the state, nonce and
// PKCE pair and keeps the verifier; the code comes back here and goes to /demo/callback,
// which exchanges it server-side and checks the ID token.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const events = $("events");
  if (!events) return; // logged in: nothing to start
  let current = null;

  function log(name, detail) {
    const li = document.createElement("li");
    li.textContent = detail === undefined ? name : `${name} ${JSON.stringify(detail)}`;
    events.appendChild(li);
  }

  async function start(mode) {
    if (current) current.close();
    const res = await fetch("/demo/login?sdk=1", { credentials: "same-origin" });
    const p = await res.json();
    current = window.MiniLogin({
      mode,
      issuer: p.issuer,
      clientId: p.client_id,
      redirectUri: p.redirect_uri,
      state: p.state,
      nonce: p.nonce,
      codeChallenge: p.code_challenge,
      connection: p.connection,
      container: $("minilogin"),
      lang: "en",
      onReady(info) {
        log("onReady", info.ticket ? { ticket: info.ticket } : undefined);
        if (info.ticket) {
          // Development: the phone simulator plays WeChat for this code.
          $("phone-link").href = `/phone/?scene=${encodeURIComponent(info.ticket)}`;
          $("dev").hidden = false;
        }
      },
      onScanned(account) { log("onScanned", account.nickname ? { nickname: account.nickname } : {}); },
      onCancelled(info) { log("onCancelled", info); },
      onExpired(info) { log("onExpired", info); },
      onError(error) { log("onError", error); },
      onSuccess(result) {
        log("onSuccess");
        location.assign("/demo/callback?" + new URLSearchParams({ code: result.code, state: result.state }));
      },
    });
    if (mode === "embedded") $("minilogin").hidden = false;
    await current.start();
  }

  $("login-popup").addEventListener("click", () => start("popup"));
  $("login-embedded").addEventListener("click", () => start("embedded"));
})();
