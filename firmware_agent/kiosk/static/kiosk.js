// Kiosk page: lists open polls in the chosen language and sends one vote per poll per session.
"use strict";

const TEXT = {
  bs: { title: "Anketa", none: "Trenutno nema otvorenih anketa.", thanks: "Hvala na glasu!", voted: "Glasali ste.", done: "Završi", error: "Glas nije zabilježen." },
  hr: { title: "Anketa", none: "Trenutačno nema otvorenih anketa.", thanks: "Hvala na glasu!", voted: "Glasali ste.", done: "Završi", error: "Glas nije zabilježen." },
  sr: { title: "Анкета", none: "Тренутно нема отворених анкета.", thanks: "Хвала на гласу!", voted: "Гласали сте.", done: "Заврши", error: "Глас није забиљежен." },
  en: { title: "Poll", none: "No polls are open right now.", thanks: "Thank you for voting!", voted: "You have voted.", done: "Done", error: "The vote was not recorded." },
};
const IDLE_MS = 60000; // the next person gets a fresh session after a minute without touches
let lang = "bs";
let state = { polls: [], voted: [] };
let idleTimer = null;

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function render() {
  const t = TEXT[lang];
  document.documentElement.lang = lang;
  document.getElementById("title").textContent = t.title;
  document.getElementById("done").textContent = t.done;
  document.querySelectorAll("#languages button").forEach((b) => b.classList.toggle("active", b.dataset.lang === lang));
  const main = document.getElementById("polls");
  main.replaceChildren();
  if (state.polls.length === 0) main.appendChild(el("p", {}, t.none));
  state.polls.forEach((poll) => {
    const section = el("section", { class: "poll", "data-poll": poll.id });
    section.appendChild(el("h2", {}, poll.question[lang]));
    if (state.voted.includes(poll.id)) {
      section.appendChild(el("p", { class: "voted" }, t.voted));
    } else {
      const options = el("div", { class: "options" });
      poll.options.forEach((option) => {
        const button = el("button", { type: "button", "data-option": option.id }, option.labels[lang]);
        button.addEventListener("click", () => vote(poll.id, option.id));
        options.appendChild(button);
      });
      section.appendChild(options);
    }
    main.appendChild(section);
  });
}

async function load() {
  const resp = await fetch("/api/polls", { credentials: "same-origin" });
  state = await resp.json();
  render();
}

async function vote(pollId, optionId) {
  const resp = await fetch("/api/votes", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ poll_id: pollId, option: optionId }),
  });
  const message = document.getElementById("message");
  if (resp.status === 201) {
    message.textContent = TEXT[lang].thanks;
  } else {
    const body = await resp.json().catch(() => ({}));
    message.textContent = `${TEXT[lang].error} ${(body.error && body.error.message) || ""}`;
  }
  await load();
}

async function endSession() {
  await fetch("/api/session/end", { method: "POST", credentials: "same-origin" });
  document.getElementById("message").textContent = "";
  lang = "bs";
  await load();
}

function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(endSession, IDLE_MS);
}

document.querySelectorAll("#languages button").forEach((b) =>
  b.addEventListener("click", () => { lang = b.dataset.lang; render(); }));
document.getElementById("done").addEventListener("click", endSession);
document.addEventListener("pointerdown", touched);
setInterval(load, 30000);
load();
