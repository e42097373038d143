// Supervisors' wallboard: listens to /hubs/wallboard and redraws on every snapshot (about once a second: the totals,
// and per queue its figures and its callbacks waiting, scheduled and answered today), shows alerts as they are raised
// and cleared, draws the staffing what-if (GET /v1/queues/{id}/staffing) as SVG, and lists one queue's agents
// (GET /v1/queues/{id}/agents) with the supervisor's actions on them.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const percent = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
  const duration = (s) => {
    if (s === null || s === undefined) return "–";
    const t = Math.round(s);
    return t < 60 ? `${t}s` : `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, "0")}s`;
  };
  // Service level against the usual 80% target: green at or above, amber within 10 points, red below.
  const levelClass = (v) => (v === null || v === undefined ? "" : v >= 0.8 ? "good" : v >= 0.7 ? "warn" : "bad");

  // Callback figures are dimmed while zero.
  const some = (n) => (n > 0 ? " some" : "");

  // Today's callbacks of a queue: "answered / asked", each number in a span of its own.
  function callbacksToday(q) {
    const td = cell("", `num callback callbacks-today${some(q.callbacks)}`);
    const answered = document.createElement("span");
    answered.className = "callbacks-answered";
    answered.textContent = q.callbacksAnswered;
    const asked = document.createElement("span");
    asked.className = "callbacks-asked";
    asked.textContent = q.callbacks;
    td.append(answered, " / ", asked);
    return td;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  const kindNames = {
    "longest-wait": "Longest wait",
    "elderly-longest-wait": "Elderly longest wait",
    "service-level": "Service level",
    "waiting": "Waiting",
  };
  const alertFigure = (kind, v) => (kind === "service-level" ? percent(v) : kind === "waiting" ? String(Math.round(v)) : duration(v));
  // Active alerts by "queueId|kind": replaced by each snapshot, updated by each pushed change in between.
  let alerts = new Map();

  function renderAlerts() {
    const list = $("alerts");
    const active = [...alerts.values()].sort((a, b) => (a.queueId + a.kind).localeCompare(b.queueId + b.kind));
    list.replaceChildren(...active.map((a) => {
      const li = document.createElement("li");
      li.dataset.queueId = a.queueId;
      li.dataset.kind = a.kind;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = `${a.queueId} · ${kindNames[a.kind] || a.kind}`;
      const text = document.createElement("span");
      text.textContent = `${alertFigure(a.kind, a.value)} (bound ${alertFigure(a.kind, a.threshold)})`;
      const since = document.createElement("span");
      since.className = "since";
      since.textContent = `since ${new Date(a.since).toLocaleTimeString()}`;
      li.append(kind, text, since);
      return li;
    }));
    $("no-alerts").hidden = active.length > 0;
    $("alerts-count").textContent = active.length > 0 ? `(${active.length} active)` : "";
    for (const tr of document.querySelectorAll("#queues tbody tr")) {
      tr.classList.toggle("alerted", active.some((a) => a.queueId === tr.dataset.queueId));
    }
  }

  function onAlert(message) {
    const key = `${message.alert.queueId}|${message.alert.kind}`;
    if (message.change === "raised") alerts.set(key, message.alert);
    else alerts.delete(key);
    renderAlerts();
  }

  function render(snapshot) {
    $("clock").textContent = `as of ${new Date(snapshot.at).toLocaleTimeString()}`;
    const t = snapshot.total;
    $("total-waiting").textContent = t.waiting;
    $("total-elderly").textContent = t.elderlyWaiting;
    $("total-longest").textContent = duration(t.longestWaitSeconds);
    $("total-sl").textContent = percent(t.serviceLevel);
    $("total-ar").textContent = percent(t.answerRate);
    $("total-answered").textContent = `${t.answered} / ${t.offered}`;
    $("total-abandoned").textContent = t.abandoned;
    $("total-callbacks-waiting").textContent = t.callbacksWaiting;
    $("total-callbacks").textContent = `${t.callbacksScheduled} scheduled · ${t.callbacksAnswered} / ${t.callbacks} answered today`;

    const body = document.querySelector("#queues tbody");
    body.replaceChildren(...snapshot.queues.map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.queueId = q.queueId;
      if (q.elderlyLongestWaitSeconds > q.serviceLevelSeconds) tr.classList.add("alert");
      const name = document.createElement("td");
      const strong = document.createElement("span");
      strong.className = "name";
      strong.textContent = q.name;
      const id = document.createElement("span");
      id.className = "id";
      id.textContent = q.queueId !== q.name ? q.queueId : "";
      name.append(strong, id);
      tr.append(
        name,
        cell(q.waiting, "num waiting"),
        cell(duration(q.longestWaitSeconds), "num longest"),
        cell(q.elderlyWaiting, "num elderly elderly-waiting"),
        cell(duration(q.elderlyLongestWaitSeconds), "num elderly elderly-longest"),
        cell(percent(q.serviceLevel), `num service-level ${levelClass(q.serviceLevel)}`),
        cell(percent(q.answerRate), "num answer-rate"),
        cell(duration(q.averageSpeedOfAnswerSeconds), "num asa"),
        cell(q.abandoned, "num abandoned"),
        cell(q.callbacksWaiting, `num callback callbacks-waiting${some(q.callbacksWaiting)}`),
        cell(q.callbacksScheduled, `num callback callbacks-scheduled${some(q.callbacksScheduled)}`),
        callbacksToday(q),
        cell(q.agentsReady, "num agents-ready"),
        cell(q.agentsNeeded ?? "–", `num agents-needed ${q.agentsNeeded == null ? "" : q.agentsReady >= q.agentsNeeded ? "enough" : "short"}`),
        cell(q.agentsBusy, "num agents-busy"),
        cell(q.agentsNotReady, "num agents-not-ready"));
      return tr;
    }));
    $("empty").hidden = snapshot.queues.length > 0;
    alerts = new Map((snapshot.alerts || []).map((a) => [`${a.queueId}|${a.kind}`, a]));
    renderAlerts();
    updateQueueChoice(snapshot.queues);
    updateAgentsQueueChoice(snapshot.queues);
    drawChart(snapshot.lastHour, new Date(snapshot.at));
  }

  // ---- Agents of one queue, and what a supervisor does with them ----

  const stateNames = { "ready": "Ready", "not-ready": "Not ready", "logged-out": "Logged out" };
  let agentsTimer = null;

  function queueLabel(q) {
    return q.name === q.queueId ? q.queueId : `${q.name} (${q.queueId})`;
  }

  function updateAgentsQueueChoice(queues) {
    const select = $("ag-queue");
    const ids = queues.map((q) => q.queueId);
    if (ids.join("|") === [...select.options].map((o) => o.value).join("|")) return;
    const chosen = select.value;
    select.replaceChildren(...queues.map((q) => new Option(queueLabel(q), q.queueId)));
    if (ids.includes(chosen)) select.value = chosen;
    if (select.value !== chosen) loadAgents();
  }

  async function problemText(response) {
    try {
      const body = await response.json();
      return body.errors ? Object.values(body.errors).flat().join(" ") : (body.detail || body.title || response.statusText);
    } catch {
      return response.statusText;
    }
  }

  async function loadAgents() {
    clearTimeout(agentsTimer);
    const queueId = $("ag-queue").value;
    if (queueId) {
      const response = await fetch(`/v1/queues/${encodeURIComponent(queueId)}/agents`, { headers: await authorized() });
      if (response.ok) renderAgents(await response.json());
      else $("ag-status").textContent = await problemText(response);
    }
    agentsTimer = setTimeout(loadAgents, 3000);
  }

  async function act(agentId, method, path, body, done) {
    const response = await fetch(`/v1/agents/${encodeURIComponent(agentId)}${path}`, {
      method, headers: { "Content-Type": "application/json", ...(await authorized()) }, body: JSON.stringify(body),
    });
    $("ag-status").textContent = response.ok ? `${agentId}: ${done}` : `${agentId}: ${await problemText(response)}`;
    await loadAgents();
  }

  function button(text, className, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.className = className;
    b.addEventListener("click", onClick);
    return b;
  }

  function renderAgents(agents) {
    const body = document.querySelector("#agents tbody");
    body.replaceChildren(...agents.map((a) => {
      const tr = document.createElement("tr");
      tr.dataset.agentId = a.id;
      const name = document.createElement("td");
      const strong = document.createElement("span");
      strong.className = "name";
      strong.textContent = a.name || a.id;
      const id = document.createElement("span");
      id.className = "id";
      id.textContent = a.name ? a.id : "";
      name.append(strong, id);
      const state = cell(stateNames[a.state] || a.state, `state state-${a.state}`);
      if (a.reason) {
        const reason = document.createElement("span");
        reason.className = "reason";
        reason.textContent = a.reason;
        state.append(reason);
      }
      if (a.forcedBy) {
        const forced = document.createElement("span");
        forced.className = "forced";
        forced.textContent = `set by ${a.forcedBy}`;
        state.append(forced);
      }
      const actions = document.createElement("td");
      const row = document.createElement("div");
      row.className = "agent-actions";
      const queues = document.createElement("input");
      queues.value = a.queues.join(", ");
      queues.setAttribute("aria-label", `Queues of ${a.id}`);
      queues.className = "move-queues";
      row.append(
        button("Not ready", "force-not-ready", () => act(a.id, "POST", "/state", { state: "not-ready", reason: "supervisor" }, "set not ready")),
        button("Log out", "force-logged-out", () => act(a.id, "POST", "/state", { state: "logged-out" }, "logged out")),
        queues,
        button("Move", "move", () => act(a.id, "PUT", "/queues",
          { queues: queues.value.split(",").map((q) => q.trim()).filter((q) => q.length > 0) }, `now serves ${queues.value}`)));
      actions.append(row);
      tr.append(name, state, cell(a.sessions.length, "num sessions"), cell(a.offers.length, "num offers"), cell(a.queues.join(", "), "queues"), actions);
      return tr;
    }));
    $("no-agents").hidden = agents.length > 0;
  }

  $("ag-queue").addEventListener("change", () => { $("ag-status").textContent = ""; loadAgents(); });
  $("agents-form").addEventListener("submit", (event) => event.preventDefault());

  // ---- Staffing what-if ----

  const svgNs = "http://www.w3.org/2000/svg";
  let whatIfTouched = false;
  function svg(name, attributes, text) {
    const e = document.createElementNS(svgNs, name);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The queue choice follows the queues on the board; the inputs start from the chosen queue's measured load.
  function updateQueueChoice(queues) {
    const select = $("wi-queue");
    const ids = queues.map((q) => q.queueId);
    const current = [...select.options].map((o) => o.value);
    if (ids.join("|") !== current.join("|")) {
      const chosen = select.value;
      select.replaceChildren(...queues.map((q) => new Option(queueLabel(q), q.queueId)));
      if (ids.includes(chosen)) select.value = chosen;
    }
    if (!whatIfTouched) {
      const q = queues.find((x) => x.queueId === select.value);
      if (q && q.arrivalsPerHour != null && q.ahtSeconds != null) {
        $("wi-arrivals").value = q.arrivalsPerHour;
        $("wi-aht").value = q.ahtSeconds;
      }
    }
  }


  // ---- access token (shared/access-token.js): the wallboard acts as a supervisor ---------------------------------
  const tokens = routingAccessToken(() => ({ subject: "wallboard", roles: ["supervisor"] }));
  const accessToken = () => tokens.get();
  const authorized = () => tokens.headers();
  function forgetToken() { tokens.forget(); }

  async function runWhatIf(event) {
    if (event) event.preventDefault();
    whatIfTouched = true;
    const queueId = $("wi-queue").value;
    const arrivals = Number($("wi-arrivals").value), aht = Number($("wi-aht").value), target = Number($("wi-target").value) / 100;
    if (!queueId || !(arrivals > 0) || !(aht > 0) || !(target > 0 && target < 1)) {
      $("wi-answer").textContent = "Choose a queue, and give arrivals, AHT and a target between 1 and 99%.";
      return;
    }
    const query = new URLSearchParams({ arrivalsPerHour: arrivals, ahtSeconds: aht, targetServiceLevel: target });
    const response = await fetch(`/v1/queues/${encodeURIComponent(queueId)}/staffing?${query}`, { headers: await authorized() });
    const body = await response.json();
    if (!response.ok) {
      $("wi-answer").textContent = body.errors ? Object.values(body.errors).flat().join(" ") : (body.detail || body.title);
      $("wi-chart").replaceChildren();
      return;
    }
    const answer = $("wi-answer");
    const strong = document.createElement("strong");
    strong.textContent = body.agentsNeeded;
    answer.replaceChildren("Agents needed: ", strong,
      ` · service level ${percent(body.predicted.serviceLevel)} · ASA ${duration(body.predicted.averageSpeedOfAnswerSeconds)} · occupancy ${percent(body.predicted.occupancy)} · ready now ${body.agentsReady}`);
    answer.dataset.agentsNeeded = body.agentsNeeded;
    drawWhatIf(body);
  }

  function drawWhatIf(plan) {
    const width = Math.max(480, $("wi-chart").clientWidth || 960), height = 280;
    const left = 48, right = 64, top = 14, bottom = 40;
    const w = width - left - right, h = height - top - bottom;
    const rows = plan.table;
    const first = rows[0].agents, last = rows[rows.length - 1].agents;
    const x = (n) => left + (last === first ? w / 2 : ((n - first) / (last - first)) * w);
    const asaValues = rows.map((r) => r.averageSpeedOfAnswerSeconds).filter((v) => v !== null);
    // The ASA axis runs to four steps of a round number of seconds, so its grid lines carry round labels.
    const asaStep = [5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120, 150, 180, 240, 300, 600, 900, 1800, 3600].find((s) => 4 * s >= Math.max(0, ...asaValues)) || 3600;
    const maxAsa = 4 * asaStep;
    const ySl = (v) => top + h - v * h;
    const yAsa = (v) => top + h - (Math.min(v, maxAsa) / maxAsa) * h;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "data-agents-needed": plan.agentsNeeded });
    for (let i = 0; i <= 4; i++) {
      const y = top + (h * i) / 4;
      chart.append(svg("line", { x1: left, x2: left + w, y1: y, y2: y, stroke: "#26323f" }));
      chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, `${100 - i * 25}%`));
      chart.append(svg("text", { x: left + w + 6, y: y + 4, "text-anchor": "start" }, duration(maxAsa * (1 - i / 4))));
    }
    const step = Math.max(1, Math.ceil(rows.length / 16));
    rows.forEach((r, i) => {
      if (i % step === 0 || r.agents === plan.agentsNeeded) {
        chart.append(svg("text", { x: x(r.agents), y: height - 22, "text-anchor": "middle" }, r.agents));
      }
    });
    chart.append(svg("text", { x: left + w / 2, y: height - 4, "text-anchor": "middle" }, "number of agents"));
    chart.append(svg("line", { x1: left, x2: left + w, y1: ySl(plan.targetServiceLevel), y2: ySl(plan.targetServiceLevel), stroke: "#8ea0b3", "stroke-dasharray": "6 4" }));
    chart.append(svg("line", { x1: x(plan.agentsNeeded), x2: x(plan.agentsNeeded), y1: top, y2: top + h, stroke: "#4aa3ff", "stroke-dasharray": "4 4", class: "needed" }));
    const series = (cls, color, points) => {
      if (points.length === 0) return;
      chart.append(svg("polyline", { class: cls, fill: "none", stroke: color, "stroke-width": 2.5, points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ") }));
      for (const [px, py] of points) chart.append(svg("circle", { class: `${cls}-point`, cx: px.toFixed(1), cy: py.toFixed(1), r: 3, fill: color }));
    };
    series("service-level", "#3fb37f", rows.map((r) => [x(r.agents), ySl(r.serviceLevel)]));
    series("asa", "#e0a526", rows.filter((r) => r.averageSpeedOfAnswerSeconds !== null).map((r) => [x(r.agents), yAsa(r.averageSpeedOfAnswerSeconds)]));
    $("wi-chart").replaceChildren(chart);
  }

  $("what-if-form").addEventListener("submit", runWhatIf);
  for (const id of ["wi-arrivals", "wi-aht", "wi-target"]) $(id).addEventListener("input", () => { whatIfTouched = true; });
  $("wi-queue").addEventListener("change", () => { whatIfTouched = false; });

  function drawChart(points, now) {
    const canvas = $("chart");
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, height);
    const left = 44, right = 44, top = 10, bottom = 24;
    const w = width - left - right, h = height - top - bottom;
    const start = now.getTime() - 60 * 60 * 1000;
    const x = (at) => left + ((new Date(at).getTime() - start) / (60 * 60 * 1000)) * w;
    // The count axis runs to a multiple of 4, so its five grid lines carry whole numbers.
    const maxWaiting = Math.max(4, Math.ceil(Math.max(0, ...points.map((p) => p.waiting)) / 4) * 4);
    const yCount = (v) => top + h - (v / maxWaiting) * h;
    const yRate = (v) => top + h - v * h;

    g.strokeStyle = "#26323f";
    g.fillStyle = "#8ea0b3";
    g.font = "12px system-ui, sans-serif";
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + (h * i) / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(left + w, y); g.stroke();
      g.textAlign = "right"; g.fillText(String(Math.round(maxWaiting * (1 - i / 4))), left - 6, y + 4);
      g.textAlign = "left"; g.fillText(`${100 - i * 25}%`, left + w + 6, y + 4);
    }
    g.textAlign = "center";
    for (let m = 0; m <= 60; m += 15) g.fillText(m === 60 ? "now" : `-${60 - m}m`, left + (m / 60) * w, height - 6);

    const line = (color, value, y) => {
      const drawn = points.filter((p) => value(p) !== null && value(p) !== undefined);
      if (drawn.length === 0) return;
      g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 2;
      g.beginPath();
      drawn.forEach((p, i) => (i === 0 ? g.moveTo(x(p.at), y(value(p))) : g.lineTo(x(p.at), y(value(p)))));
      g.stroke();
      drawn.forEach((p) => { g.beginPath(); g.arc(x(p.at), y(value(p)), 2.5, 0, Math.PI * 2); g.fill(); });
    };
    line("#3fb37f", (p) => p.serviceLevel, yRate);
    line("#4aa3ff", (p) => p.waiting, yCount);
    line("#c58af9", (p) => p.elderlyWaiting, yCount);
  }

  function setConnection(state) {
    const pill = $("connection");
    pill.dataset.state = state;
    pill.textContent = state;
    pill.className = `pill ${state === "connected" ? "pill-on" : "pill-off"}`;
  }

  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/wallboard", { accessTokenFactory: accessToken })
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * 2 ** ctx.previousRetryCount) })
    .build();
  connection.on("snapshot", render);
  connection.on("alert", onAlert);
  connection.onreconnecting(() => { forgetToken(); setConnection("reconnecting"); });
  connection.onreconnected(() => setConnection("connected"));
  connection.onclose(() => { forgetToken(); setConnection("disconnected"); setTimeout(start, 2000); });

  async function start() {
    try {
      await connection.start();
      setConnection("connected");
    } catch (err) {
      console.warn("wallboard: connection failed, retrying", err);
      setConnection("disconnected");
      setTimeout(start, 2000);
    }
  }

  start();
})();
