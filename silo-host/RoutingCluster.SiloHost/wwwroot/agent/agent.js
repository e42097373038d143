// Agent desktop: signs in over SignalR (/hubs/agent), shows offers pushed live with a countdown, and the
// sessions the agent holds. Reconnects by itself; a pending offer is shown again after a reconnect.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const priority = new Set(["elderly", "disabled", "military"]);
  let connection = null;
  let agentId = null;
  let offers = new Map();   // sessionId -> offer notice
  let view = null;           // latest agent view

  function setConnection(state) {
    const pill = $("connection");
    pill.textContent = state;
    pill.dataset.state = state;
    pill.className = "pill " + (state === "connected" ? "pill-on" : state === "reconnecting" ? "pill-wait" : "pill-off");
  }

  function badge(segment) {
    const b = document.createElement("span");
    b.className = "badge badge-" + segment;
    b.textContent = segment;
    return b;
  }

  function button(text, cls, onClick) {
    const b = document.createElement("button");
    b.textContent = text;
    if (cls) b.className = cls;
    b.addEventListener("click", onClick);
    return b;
  }

  function secondsLeft(expiresAt) {
    return Math.max(0, Math.ceil((Date.parse(expiresAt) - Date.now()) / 1000));
  }

  function renderAgent() {
    if (!view) return;
    $("agent-name").textContent = view.name || view.id;
    $("agent-id-label").textContent = view.name ? "(" + view.id + ")" : "";
    $("agent-state").textContent = view.state;
    $("agent-state").dataset.state = view.state;
    $("agent-reason").textContent = view.reason ? "· " + view.reason : "";
    // Offers known from the view but not yet pushed (e.g. after a reconnect) are kept with what the view says.
    const current = new Set(view.offers.map((o) => o.sessionId));
    for (const id of [...offers.keys()]) if (!current.has(id)) offers.delete(id);
    for (const o of view.offers) if (!offers.has(o.sessionId)) offers.set(o.sessionId, { ...o, segments: [] });
    renderOffers();
    renderSessions();
  }

  function renderOffers() {
    const list = $("offers");
    list.replaceChildren();
    for (const offer of offers.values()) {
      const li = document.createElement("li");
      li.className = "offer" + (offer.segments.some((s) => priority.has(s)) ? " priority" : "");
      li.dataset.sessionId = offer.sessionId;
      const text = document.createElement("div");
      const title = document.createElement("strong");
      title.textContent = offer.channel + " · " + offer.queueId;
      text.append(title);
      for (const s of offer.segments) text.append(badge(s));
      const info = document.createElement("div");
      info.className = "muted";
      const waited = offer.waitedSeconds !== undefined ? "waited " + Math.round(offer.waitedSeconds) + " s · " : "";
      info.append(waited + "session " + offer.sessionId + " · expires in ");
      const countdown = document.createElement("span");
      countdown.className = "countdown";
      countdown.dataset.expiresAt = offer.expiresAt;
      countdown.textContent = secondsLeft(offer.expiresAt) + " s";
      info.append(countdown);
      text.append(info);
      const actions = document.createElement("div");
      actions.className = "buttons";
      actions.append(
        button("Accept", "accept", () => act("Accept", offer.sessionId)),
        button("Reject", "secondary reject", () => act("Reject", offer.sessionId)));
      li.append(text, actions);
      list.append(li);
    }
    $("no-offers").hidden = offers.size > 0;
  }

  function renderSessions() {
    const list = $("sessions");
    list.replaceChildren();
    for (const s of view.sessions) {
      const li = document.createElement("li");
      li.dataset.sessionId = s.sessionId;
      li.dataset.state = s.state;
      const text = document.createElement("div");
      text.textContent = s.channel + " · " + s.queueId + " · " + s.sessionId + " · ";
      const state = document.createElement("strong");
      state.className = "session-state";
      state.textContent = s.state;
      text.append(state);
      const actions = document.createElement("div");
      actions.className = "buttons";
      if (s.state === "connected") actions.append(button("End", "danger end", () => act("End", s.sessionId)));
      if (s.state === "wrap-up") actions.append(button("Wrap-up done", "wrap-up-done", () => act("WrapUpDone", s.sessionId)));
      li.append(text, actions);
      list.append(li);
    }
    $("no-sessions").hidden = view.sessions.length > 0;
  }

  async function act(method, ...args) {
    $("action-error").textContent = "";
    try {
      const result = await connection.invoke(method, ...args);
      if (!result.ok) $("action-error").textContent = result.detail || "Refused (" + result.status + ")";
      const fresh = await connection.invoke("GetAgent");
      if (fresh) { view = fresh; renderAgent(); }
    } catch (err) {
      $("action-error").textContent = String(err.message || err);
    }
  }

  async function signIn() {
    view = await connection.invoke("SignIn", agentId);
    renderAgent();
  }

  async function start(id) {
    agentId = id;
    connection = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/agent")
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * (ctx.previousRetryCount + 1)) })
      .build();
    connection.on("offer", (offer, agent) => { offers.set(offer.sessionId, offer); view = agent; renderAgent(); });
    connection.on("offerWithdrawn", (sessionId, agent) => { offers.delete(sessionId); view = agent; renderAgent(); });
    connection.on("offerExpired", (sessionId, agent) => { offers.delete(sessionId); view = agent; renderAgent(); });
    connection.on("agentChanged", (agent) => { view = agent; renderAgent(); });
    connection.onreconnecting(() => setConnection("reconnecting"));
    connection.onreconnected(async () => { setConnection("connected"); await signIn(); });
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
    try {
      await start($("agent-id").value.trim());
    } catch (err) {
      $("signin-error").textContent = String(err.message || err);
      setConnection("disconnected");
      if (connection) await connection.stop();
    }
  });
  $("ready").addEventListener("click", () => act("SetState", "ready", null));
  $("not-ready").addEventListener("click", () => act("SetState", "not-ready", $("reason").value));
  $("log-out").addEventListener("click", () => act("SetState", "logged-out", null));

  setInterval(() => {
    for (const el of document.querySelectorAll(".countdown")) el.textContent = secondsLeft(el.dataset.expiresAt) + " s";
  }, 250);

  const fromQuery = new URLSearchParams(location.search).get("agent");
  if (fromQuery) { $("agent-id").value = fromQuery; }
})();
