// Supervisors' wallboard: listens to /hubs/wallboard and redraws on every snapshot (about once a second).
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

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
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
        cell(q.agentsReady, "num agents-ready"),
        cell(q.agentsBusy, "num agents-busy"),
        cell(q.agentsNotReady, "num agents-not-ready"));
      return tr;
    }));
    $("empty").hidden = snapshot.queues.length > 0;
    drawChart(snapshot.lastHour, new Date(snapshot.at));
  }

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
    .withUrl("/hubs/wallboard")
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * 2 ** ctx.previousRetryCount) })
    .build();
  connection.on("snapshot", render);
  connection.onreconnecting(() => setConnection("reconnecting"));
  connection.onreconnected(() => setConnection("connected"));
  connection.onclose(() => { setConnection("disconnected"); setTimeout(start, 2000); });

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
