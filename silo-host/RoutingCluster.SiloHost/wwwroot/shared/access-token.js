// The pages' bearer token, for the hubs and the API. A token the page is given (jwt mode: in the address's fragment,
// #access_token=..., which is never sent to a server) is used as it is; otherwise, in dev mode, one is asked from
// POST /auth/dev-token (loopback only) with the claims the page names, and a fresh one once the page forgets it (after
// a lost connection); where neither exists (jwt mode behind a reverse proxy that adds the Authorization header itself)
// the page sends none.
"use strict";

window.routingAccessToken = (claims) => {
  const given = new URLSearchParams(location.hash.slice(1)).get("access_token");
  if (given) history.replaceState(null, "", location.pathname + location.search);
  let token = null;
  let expires = 0;
  let noDevIssuer = false;

  async function get() {
    if (given) return given;
    if (noDevIssuer) return "";
    if (token && Date.now() < expires - 60000) return token;
    const response = await fetch("/auth/dev-token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...claims(), lifetimeSeconds: 3600 }),
    });
    if (response.status === 404) { noDevIssuer = true; return ""; }
    if (!response.ok) throw new Error("No token: POST /auth/dev-token answered " + response.status);
    const answer = await response.json();
    token = answer.accessToken;
    expires = Date.parse(answer.expiresAt);
    return token;
  }

  return {
    get,
    forget() { token = null; },
    async headers() {
      const t = await get();
      return t ? { authorization: "Bearer " + t } : {};
    },
  };
};
