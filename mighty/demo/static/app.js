// Mighty demo UI: one WebSocket (/ws), MediaRecorder for the mic, streamed numbered steps.
// Message schema: docs/demo.md. No build step; plain DOM.
"use strict";

const $ = (id) => document.getElementById(id);
const STEP_RE = /^\s*(?:step\s*)?(\d{1,2})\s*[.):\-]\s+(\S.*)$/i;

const ui = {
  status: $("status"), mic: $("mic"), micLabel: $("mic-label"), form: $("ask-form"),
  question: $("question"), ask: $("ask"), transcript: $("transcript"), busy: $("busy"),
  notice: $("notice"), intro: $("answer-intro"), steps: $("steps"), outro: $("answer-outro"),
  error: $("error"), copy: $("copy"), share: $("share"), speak: $("speak"), player: $("player"),
  servedBy: $("served-by"), route: $("route"), latency: $("latency"), trace: $("trace"),
  checkpoint: $("checkpoint"),
};

let ws = null;
let server = null;        // the "ready" message
let answerText = "";      // streamed text of the current answer
let lastDone = null;      // the last "done" message
let lastQuestion = "";
let recorder = null;
let recordTimer = null;
let busy = false;

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function setBusy(on) {
  busy = on;
  ui.busy.hidden = !on;
  ui.ask.disabled = on || !ws || ws.readyState !== WebSocket.OPEN;
  ui.mic.disabled = (on && !recorder) || !server || !server.stt || !navigator.mediaDevices;
  document.body.dataset.busy = on ? "1" : "0";
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  setStatus("connecting", "connecting…");
  ws.onopen = () => setStatus("open", "connected");
  ws.onclose = () => {
    setStatus("closed", "disconnected — retrying");
    server = null;
    setBusy(false);
    setTimeout(connect, 1500);
  };
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
}

// Text -> intro paragraphs, numbered steps (<ol>), outro paragraphs.
function render(text) {
  const intro = [], steps = [], outro = [];
  let inStep = false;
  for (const line of text.split("\n")) {
    const m = line.match(STEP_RE);
    if (m) { steps.push(m[2].trim()); inStep = true; continue; }
    if (!line.trim()) continue;
    if (inStep && /^\s/.test(line)) { steps[steps.length - 1] += " " + line.trim(); continue; }
    (steps.length ? outro : intro).push(line.trim());
    inStep = false;
  }
  fillParas(ui.intro, intro);
  fillParas(ui.outro, outro);
  // Update in place so a streaming step grows instead of flickering.
  while (ui.steps.children.length > steps.length) ui.steps.lastChild.remove();
  steps.forEach((s, i) => {
    let li = ui.steps.children[i];
    if (!li) { li = document.createElement("li"); ui.steps.appendChild(li); }
    if (li.textContent !== s) li.textContent = s;
  });
}

function fillParas(el, lines) {
  el.replaceChildren(...lines.map((l) => { const p = document.createElement("p"); p.textContent = l; return p; }));
}

function resetAnswer() {
  answerText = "";
  lastDone = null;
  render("");
  ui.notice.hidden = true;
  ui.error.hidden = true;
  for (const b of [ui.copy, ui.share, ui.speak]) b.disabled = true;
  for (const el of [ui.servedBy, ui.route, ui.latency, ui.trace]) el.textContent = "…";
}

function showError(msg) {
  ui.error.textContent = msg.message + (msg.retry_after ? ` (retry in ${msg.retry_after}s)` : "");
  ui.error.hidden = false;
  ui.error.dataset.code = msg.code;
}

function onMessage(msg) {
  switch (msg.type) {
    case "ready":
      server = msg;
      setStatus("ready", `ready · student ${msg.student} · teacher ${msg.teacher}`);
      ui.checkpoint.textContent = `student: ${msg.student_checkpoint}`;
      setBusy(false);
      { const q = new URLSearchParams(location.search).get("q");
        if (q && !lastQuestion) { ui.question.value = q; askText(q); } }
      break;
    case "transcript":  // interim (final: false) while recording, then the final one
      ui.transcript.textContent = msg.text || "(no speech recognised)";
      ui.transcript.classList.toggle("muted", !msg.final);
      ui.transcript.dataset.final = msg.final ? "1" : "0";
      if (msg.final) lastQuestion = msg.text;
      break;
    case "route":
      ui.servedBy.textContent = msg.served_by;
      ui.route.textContent = `${msg.route} (${msg.reason})`;
      break;
    case "token":
      answerText += msg.text;
      render(answerText);
      break;
    case "fallback":
      answerText = "";
      render("");
      ui.notice.textContent = `The first answer failed validation (${msg.failures.join(", ")}); ` +
                              `${msg.to} is answering instead.`;
      ui.notice.hidden = false;
      break;
    case "done":
      lastDone = msg;
      answerText = msg.answer;
      render(answerText);
      ui.servedBy.textContent = msg.served_by;
      ui.route.textContent = `${msg.route} (${msg.reason})` + (msg.refused ? " · refused" : "");
      ui.latency.textContent = `${Math.round(msg.latency_ms)} ms`;
      ui.trace.textContent = msg.trace_id;
      for (const b of [ui.copy, ui.share]) b.disabled = false;
      ui.speak.disabled = !(server && server.tts);
      document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
      setBusy(false);
      break;
    case "error":
      showError(msg);
      setBusy(false);
      break;
  }
}

function askText(text) {
  text = text.trim();
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  resetAnswer();
  lastQuestion = text;
  ui.transcript.textContent = text;
  ui.transcript.classList.remove("muted");
  setBusy(true);
  ws.send(JSON.stringify({ type: "ask", text }));
}

ui.form.addEventListener("submit", (ev) => { ev.preventDefault(); askText(ui.question.value); });

// --- microphone -----------------------------------------------------------------------
function pickMime() {
  for (const m of ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/ogg"]) {
    if (window.MediaRecorder && MediaRecorder.isTypeSupported(m)) return m;
  }
  return "";
}

async function startRecording() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    showError({ code: "mic_denied", message: `microphone unavailable: ${e.message}` });
    return;
  }
  const mime = pickMime();
  let sent = 0;
  let queue = Promise.resolve();  // keeps chunks in order (arrayBuffer() is async)
  recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
  // Chunks stream to the server as they are recorded, so it can send live transcripts.
  ws.send(JSON.stringify({ type: "audio_start", mime: recorder.mimeType || mime }));
  recorder.ondataavailable = (ev) => {
    if (!ev.data || !ev.data.size) return;
    queue = queue.then(async () => {
      sent += ev.data.size;
      if (server && sent > server.max_audio_bytes) { stopRecording(); return; }
      ws.send(await ev.data.arrayBuffer());
    });
  };
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    clearTimeout(recordTimer);
    recorder = null;
    ui.mic.setAttribute("aria-pressed", "false");
    ui.micLabel.textContent = "Speak";
    queue = queue.then(() => {
      ws.send(JSON.stringify({ type: "audio_end" }));
      ui.transcript.classList.add("muted");
      if (!sent) setBusy(false);
    });
  };
  resetAnswer();
  setBusy(true);
  recorder.start(250);
  ui.mic.setAttribute("aria-pressed", "true");
  ui.micLabel.textContent = "Stop";
  ui.mic.disabled = false;
  const maxMs = ((server && server.max_audio_seconds) || 30) * 1000 - 500;
  recordTimer = setTimeout(stopRecording, maxMs);
}

function stopRecording() {
  if (recorder && recorder.state !== "inactive") recorder.stop();
}

ui.mic.addEventListener("click", () => (recorder ? stopRecording() : startRecording()));

// --- copy / share / read aloud ----------------------------------------------------------
function plainAnswer() {
  if (!lastDone) return answerText;
  const steps = lastDone.steps.map((s, i) => `${i + 1}. ${s}`).join("\n");
  return lastDone.steps.length ? `${lastQuestion}\n\n${steps}` : `${lastQuestion}\n\n${lastDone.answer}`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {  // insecure origin or denied: fall back to a hidden textarea
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
}

function flash(btn, label) {
  const old = btn.textContent;
  btn.textContent = label;
  setTimeout(() => { btn.textContent = old; }, 1200);
}

ui.copy.addEventListener("click", async () => { await copyText(plainAnswer()); flash(ui.copy, "Copied"); });

ui.share.addEventListener("click", async () => {
  const url = `${location.origin}/?q=${encodeURIComponent(lastQuestion)}`;
  if (navigator.share) {
    try { await navigator.share({ title: "Mighty fix", text: plainAnswer(), url }); return; }
    catch (_) { /* cancelled: fall through to copying the link */ }
  }
  await copyText(url);
  flash(ui.share, "Link copied");
});

ui.speak.addEventListener("click", async () => {
  const text = lastDone ? (lastDone.steps.length ? lastDone.steps.map((s, i) => `${i + 1}. ${s}`).join("\n") : lastDone.answer) : "";
  if (!text) return;
  ui.speak.disabled = true;
  try {
    const r = await fetch("/tts", { method: "POST", headers: { "Content-Type": "application/json" },
                                    body: JSON.stringify({ text }) });
    if (!r.ok) { showError((await r.json()).error); return; }
    ui.player.src = URL.createObjectURL(await r.blob());
    await ui.player.play();
  } finally {
    ui.speak.disabled = false;
  }
});

connect();
