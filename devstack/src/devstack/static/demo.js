// Popup mode, as a customer's site would do it: open the hosted page, take the result
// only from the identity provider's exact origin, then finish the exchange server-side.
(() => {
  const btn = document.getElementById("login-popup");
  if (!btn) return;
  btn.addEventListener("click", async () => {
    const res = await fetch("/demo/login?mode=popup", { credentials: "same-origin" });
    const { url } = await res.json();
    const idp = new URL(url).origin;
    const popup = window.open(url, "minilogin", "width=420,height=620");
    window.addEventListener("message", function onMessage(e) {
      // OAuth 2.0 Web Message Response Mode: {type, response: {code|error, state, iss}}.
      if (e.origin !== idp || !e.data || e.data.type !== "authorization_response") return;
      window.removeEventListener("message", onMessage);
      if (popup) popup.close();
      location.assign("/demo/callback?" + new URLSearchParams(e.data.response));
    });
  });
})();
