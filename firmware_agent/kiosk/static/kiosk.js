// Kiosk page: lists open polls in the chosen language and sends one vote per poll per session.
"use strict";

const TEXT = {
  bs: { title: "Pametna klupa", none: "Trenutno nema otvorenih anketa.", thanks: "Hvala na glasu!", voted: "Glasali ste.", done: "Završi", error: "Glas nije zabilježen." },
  hr: { title: "Pametna klupa", none: "Trenutačno nema otvorenih anketa.", thanks: "Hvala na glasu!", voted: "Glasali ste.", done: "Završi", error: "Glas nije zabilježen." },
  sr: { title: "Паметна клупа", none: "Тренутно нема отворених анкета.", thanks: "Хвала на гласу!", voted: "Гласали сте.", done: "Заврши", error: "Глас није забиљежен." },
  en: { title: "Smart bench", none: "No polls are open right now.", thanks: "Thank you for voting!", voted: "You have voted.", done: "Done", error: "The vote was not recorded." },
};
// What the bench offers now (GET /api/status): each offer is "available", "shed" (saving a low battery) or "off".
const OFFERS = {
  bs: { usb: "USB punjenje", wireless: "Bežično punjenje", scooter: "Punjenje romobila", wifi: "Besplatni Wi-Fi",
        available: "dostupno", shed: "isključeno radi štednje baterije", off: "nije u ponudi" },
  hr: { usb: "USB punjenje", wireless: "Bežično punjenje", scooter: "Punjenje romobila", wifi: "Besplatni Wi-Fi",
        available: "dostupno", shed: "isključeno radi štednje baterije", off: "nije u ponudi" },
  sr: { usb: "УСБ пуњење", wireless: "Бежично пуњење", scooter: "Пуњење тротинета", wifi: "Бесплатни Wi-Fi",
        available: "доступно", shed: "искључено ради штедње батерије", off: "није у понуди" },
  en: { usb: "USB charging", wireless: "Wireless charging", scooter: "Scooter charging", wifi: "Free Wi-Fi",
        available: "available", shed: "off to save the battery", off: "not offered" },
};
const IDLE_MS = 60000; // the next person gets a fresh session after a minute without touches
let lang = "bs";
let state = { polls: [], voted: [] };
let status = { charging: {}, wifi: null, announcements: [] };
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
  renderStatus();
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

function renderStatus() {
  const o = OFFERS[lang];
  const news = document.getElementById("announcements");
  news.replaceChildren();
  status.announcements.forEach((a) => {
    // English is optional in an announcement: a visitor reading English gets the Bosnian text.
    news.appendChild(el("p", { class: "announcement", "data-announcement": a.id }, a.text[lang] || a.text.bs));
  });
  const offers = document.getElementById("offers");
  offers.replaceChildren();
  const list = el("ul", {});
  const items = Object.entries(status.charging);
  if (status.wifi) items.push(["wifi", status.wifi.state]);
  items.forEach(([kind, state]) => {
    const item = el("li", { class: `offer ${state}`, "data-offer": kind, "data-state": state });
    item.appendChild(el("span", { class: "name" }, o[kind]));
    item.appendChild(el("span", { class: "state" }, kind === "wifi" && state === "available"
      ? `${o.available} (${status.wifi.ssid})` : o[state]));
    list.appendChild(item);
  });
  offers.appendChild(list);
}

async function load() {
  const [polls, now] = await Promise.all([
    fetch("/api/polls", { credentials: "same-origin" }),
    fetch("/api/status", { credentials: "same-origin" }),
  ]);
  state = await polls.json();
  if (now.ok) status = await now.json();
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
setInterval(load, 10000); // announcements and offers change while the page stays open
load();
