// Agent desktop: signs in over SignalR (/hubs/agent), shows offers pushed live with a countdown, and the
// sessions the agent holds. Reconnects by itself; a pending offer is shown again after a reconnect.
//
// The agent view the hub sends is authoritative for what is pending and held. Pushes may arrive out of order and
// carry no version, so after every push the page also asks for the current view (coalesced: one request at a
// time, repeated when another push came in meanwhile); the last view shown is never older than the last push.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const priority = new Set(["elderly", "disabled", "military"]);
  const channels = { voice: "Voice", video: "Video", chat: "Chat", app: "App", wechat: "WeChat", sms: "SMS", email: "Email", weibo: "Weibo", "5g": "5G messaging" };
  let connection = null;
  let agentId = null;
  let view = null;              // latest agent view
  const notices = new Map();    // sessionId -> offer notice pushed by the hub (segments, waited), kept while pending
  const deadlines = new Map();  // sessionId -> local time (ms) the offer expires
  let clockOffset = 0;          // local clock minus server clock (ms), estimated from pushed offers
  let refreshing = false;
  let refreshAgain = false;

  // ---- small helpers ----------------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(text, cls, onClick) {
    const b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", () => onClick(b));
    return b;
  }

  function serverTime(iso) { return Date.parse(iso) + clockOffset; }

  function secondsLeft(deadline) { return Math.max(0, Math.ceil((deadline - Date.now()) / 1000)); }

  function clock(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    const m = Math.floor(s / 60);
    return m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0")
      : m + ":" + String(s % 60).padStart(2, "0");
  }

  function channelName(c) { return channels[c] || c; }

  function setConnection(state) {
    const pill = $("connection");
    pill.textContent = state;
    pill.dataset.state = state;
    pill.className = "pill " + (state === "connected" ? "pill-on" : state === "reconnecting" || state === "connecting" ? "pill-wait" : "pill-off");
  }

  function notify(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  function badge(segment) {
    const b = el("span", "badge badge-" + segment, segment);
    b.title = priority.has(segment) || segment === "vip" ? "Priority customer: " + segment : segment;
    return b;
  }

  // ---- rendering --------------------------------------------------------------------------------------------
  function show(fresh) {
    if (!fresh) return;
    view = fresh;
    const pending = new Set(view.offers.map((o) => o.sessionId));
    for (const id of [...notices.keys()]) if (!pending.has(id)) notices.delete(id);
    for (const id of [...deadlines.keys()]) if (!pending.has(id)) deadlines.delete(id);
    for (const o of view.offers) if (!deadlines.has(o.sessionId)) deadlines.set(o.sessionId, serverTime(o.expiresAt));
    renderAgent();
    renderOffers();
    renderSessions();
    tick();
  }

  function renderAgent() {
    document.title = (view.name || view.id) + " · " + view.state + " · Agent desktop";
    $("agent-name").textContent = view.name || view.id;
    $("agent-id-label").textContent = view.name ? "(" + view.id + ")" : "";
    $("agent-state").textContent = view.state;
    $("agent-state").dataset.state = view.state;
    $("agent-reason").textContent = (view.reason ? "· " + view.reason : "") + (view.forcedBy ? ` · set by supervisor ${view.forcedBy}` : "");
    $("agent-since").dataset.since = view.stateSince;
    for (const b of document.querySelectorAll("#desk button[data-state]")) {
      const current = b.dataset.state === view.state && (b.dataset.state !== "not-ready" || view.reason === $("reason").value);
      b.disabled = current;
      b.setAttribute("aria-pressed", String(b.dataset.state === view.state));
    }
  }

  function renderOffers() {
    const list = $("offers");
    list.replaceChildren();
    for (const o of view.offers) {
      const notice = notices.get(o.sessionId) || { ...o, segments: o.segments || [] };
      const prio = notice.segments.some((s) => priority.has(s));
      const callback = (notice.kind || o.kind) === "callback";
      const li = el("li", "offer" + (prio ? " priority" : "") + (notice.segments.includes("vip") ? " vip" : "") + (callback ? " callback" : ""));
      li.dataset.sessionId = o.sessionId;
      li.dataset.kind = callback ? "callback" : "inbound";

      const text = el("div", "item-text");
      const title = el("div", "item-title");
      title.append(el("strong", null, channelName(o.channel)), el("span", "sep", "·"), el("span", "queue", o.queueId));
      for (const s of notice.segments) title.append(badge(s));
      const meta = el("div", "muted small");
      if (notice.waitedSeconds !== undefined) meta.append("waited " + clock(notice.waitedSeconds) + " · ");
      meta.append("session ", el("code", null, o.sessionId));
      text.append(title, meta);
      if (callback) {
        // The customer is not on the line: accepting means calling them back (the gateway dials once connected).
        const marker = el("div", "callback-marker", "\u260E Call the customer back");
        marker.title = "The customer left the line and asked to be called back. Accept, and the call to the customer starts.";
        marker.setAttribute("role", "note");
        text.prepend(marker);
      }

      const timer = el("div", "timer");
      const countdown = el("span", "countdown");
      countdown.dataset.sessionId = o.sessionId;
      countdown.title = "Time left to answer this offer";
      timer.append(el("span", "timer-label", "answer within"), countdown);

      const actions = el("div", "buttons nowrap");
      actions.append(
        button("Accept", "accept", (b) => act(b, "Accept", o.sessionId)),
        button("Reject", "secondary reject", (b) => act(b, "Reject", o.sessionId)));

      const bar = el("div", "bar");
      bar.append(el("span", "bar-fill"));
      bar.dataset.sessionId = o.sessionId;
      bar.dataset.total = String(Math.max(1, Date.parse(o.expiresAt) - Date.parse(o.offeredAt)));

      li.append(text, timer, actions, bar);
      list.append(li);
    }
    $("no-offers").hidden = view.offers.length > 0;
    $("offer-count").hidden = view.offers.length === 0;
    $("offer-count").textContent = String(view.offers.length);
  }

  function renderSessions() {
    const list = $("sessions");
    list.replaceChildren();
    for (const s of view.sessions) {
      const li = el("li", "held held-" + s.state);
      li.dataset.sessionId = s.sessionId;
      li.dataset.state = s.state;

      const text = el("div", "item-text");
      const title = el("div", "item-title");
      title.append(el("strong", null, channelName(s.channel)), el("span", "sep", "·"), el("span", "queue", s.queueId));
      const meta = el("div", "muted small");
      meta.append("session ", el("code", null, s.sessionId));
      text.append(title, meta);

      const status = el("div", "timer");
      const state = el("span", "chip session-state", s.state);
      state.dataset.state = s.state;
      const time = el("span", "session-time small");
      time.dataset.since = s.since;
      if (s.wrapUpUntil) time.dataset.until = s.wrapUpUntil;
      status.append(state, time);

      const actions = el("div", "buttons nowrap");
      if (s.state === "connected") actions.append(button("End", "danger end", (b) => act(b, "End", s.sessionId)));
      if (s.state === "wrap-up") actions.append(button("Wrap-up done", "wrap-up-done", (b) => act(b, "WrapUpDone", s.sessionId)));
      li.append(text, status, actions);
      list.append(li);
    }
    $("no-sessions").hidden = view.sessions.length > 0;
    $("session-count").hidden = view.sessions.length === 0;
    $("session-count").textContent = String(view.sessions.length);
  }

  // Countdowns and timers, every 250 ms.
  function tick() {
    const now = Date.now();
    for (const c of document.querySelectorAll(".countdown")) {
      const deadline = deadlines.get(c.dataset.sessionId);
      if (deadline === undefined) continue;
      const left = secondsLeft(deadline);
      c.textContent = left + " s";
      c.classList.toggle("urgent", left <= 5);
    }
    for (const b of document.querySelectorAll(".bar")) {
      const deadline = deadlines.get(b.dataset.sessionId);
      if (deadline === undefined) continue;
      const fraction = Math.min(1, Math.max(0, (deadline - now) / Number(b.dataset.total)));
      b.firstChild.style.width = (fraction * 100).toFixed(1) + "%";
    }
    for (const t of document.querySelectorAll(".session-time")) {
      t.textContent = t.dataset.until
        ? "ends in " + clock(Math.ceil((serverTime(t.dataset.until) - now) / 1000))
        : "for " + clock((now - serverTime(t.dataset.since)) / 1000);
    }
    const since = $("agent-since").dataset.since;
    $("agent-since").textContent = since ? "for " + clock((now - serverTime(since)) / 1000) : "";
  }


  // ---- access token (shared/access-token.js): for the agent the user named ----------------------------------------
  const tokens = routingAccessToken(() => ({ subject: agentId, roles: ["agent"], agentId }));
  const accessToken = () => tokens.get();
  function forgetToken() { tokens.forget(); }

  // ---- talking to the hub -----------------------------------------------------------------------------------
  async function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    try {
      do {
        refreshAgain = false;
        show(await connection.invoke("GetAgent"));
      } while (refreshAgain);
    } catch (err) {
      console.warn("refresh failed", err);
    } finally {
      refreshing = false;
    }
  }

  async function act(source, method, ...args) {
    $("action-error").textContent = "";
    notify("");
    if (source) source.disabled = true;
    try {
      const result = await connection.invoke(method, ...args);
      if (!result.ok) $("action-error").textContent = result.detail || "Refused (" + result.status + ")";
    } catch (err) {
      $("action-error").textContent = String(err.message || err);
    } finally {
      if (source) source.disabled = false;
    }
    await refresh();
  }

  async function signIn() {
    show(await connection.invoke("SignIn", agentId));
  }

  async function start(id) {
    if (typeof signalR === "undefined") {
      throw new Error("The SignalR client (/lib/signalr/signalr.min.js) did not load: the host was built without its npm packages.");
    }
    agentId = id;
    forgetToken();
    connection = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/agent", { accessTokenFactory: accessToken })
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * (ctx.previousRetryCount + 1)) })
      .build();
    connection.on("offer", (offer, agent) => {
      const received = Date.now();
      // Only a real clock difference counts (a desktop whose clock is off), not the push's own latency.
      const offset = received - Date.parse(offer.offeredAt);
      clockOffset = Math.abs(offset) > 1500 ? offset : 0;
      notices.set(offer.sessionId, offer);
      deadlines.set(offer.sessionId, received + (Date.parse(offer.expiresAt) - Date.parse(offer.offeredAt)));
      notify("");
      show(agent);
      refresh();
    });
    connection.on("offerWithdrawn", (sessionId, agent) => {
      notify("The customer of session " + sessionId + " left before you answered: the offer was withdrawn.");
      show(agent);
      refresh();
    });
    connection.on("offerExpired", (sessionId, agent) => {
      notify("The offer of session " + sessionId + " expired before you answered: you are now not-ready (missed-offer). Choose Ready to take sessions again.");
      show(agent);
      refresh();
    });
    connection.on("agentChanged", (agent) => { show(agent); refresh(); });
    connection.onreconnecting(() => { forgetToken(); setConnection("reconnecting"); });
    connection.onreconnected(async () => {
      try {
        await signIn();
        setConnection("connected");
      } catch (err) {
        $("action-error").textContent = "Signing in again failed: " + String(err.message || err);
      }
    });
    connection.onclose(() => setConnection("disconnected"));
    setConnection("connecting");
    await connection.start();
    await signIn();
    setConnection("connected");
    $("signin").hidden = true;
    $("desk").hidden = false;
  }

  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("signin-error").textContent = "";
    $("signin-button").disabled = true;
    try {
      await start($("agent-id").value.trim());
    } catch (err) {
      $("signin-error").textContent = String(err.message || err).replace(/^.*HubException: /, "");
      setConnection("disconnected");
      if (connection) await connection.stop();
      connection = null;
    } finally {
      $("signin-button").disabled = false;
    }
  });
  $("ready").addEventListener("click", (e) => act(e.currentTarget, "SetState", "ready", null));
  $("not-ready").addEventListener("click", (e) => act(e.currentTarget, "SetState", "not-ready", $("reason").value));
  $("log-out").addEventListener("click", (e) => act(e.currentTarget, "SetState", "logged-out", null));
  $("reason").addEventListener("change", () => { if (view) renderAgent(); });

  setInterval(tick, 250);

  const fromQuery = new URLSearchParams(location.search).get("agent");
  if (fromQuery) { $("agent-id").value = fromQuery; }
})();
