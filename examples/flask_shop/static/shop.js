// Demo Phone Shop: the phone's menu, the typeahead, the step-by-step questionnaire, filters that apply on
// change. No framework, no build step. The server renders everything and decides everything; this only
// makes it pleasant. No template has an inline handler (the CSP allows none): every listener is added here.
// Loaded without `defer`: the class below is set before the header is drawn (the menu starts folded).
"use strict";
document.documentElement.classList.add("js");

// -- the header's menu on phones and tablets: a toggle button (aria-expanded), closed by Escape or a click away
function setUpMenu(header) {
  const toggle = header.querySelector(".menu-toggle");
  const menu = document.getElementById(toggle.getAttribute("aria-controls"));
  function setOpen(open, returnFocus) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("open", open);
    if (!open && returnFocus) toggle.focus();
  }
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true", false));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("open")) { event.preventDefault(); setOpen(false, true); }
  });
  document.addEventListener("click", (event) => { if (!header.contains(event.target)) setOpen(false, false); });
  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !header.contains(event.relatedTarget)) setOpen(false, false);
  });
  window.matchMedia("(min-width: 64em)").addEventListener("change", () => setOpen(false, false));
}

// -- typeahead: forms with data-typeahead="<url of search.json>" ------------------------------------------
function setUpTypeahead(form) {
  const input = form.querySelector("input[type=search]");
  const list = form.querySelector(".suggestions");
  let timer = null, items = [], selected = -1, asked = 0;
  function render() {
    list.replaceChildren(...items.map((item, index) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = item.url;
      a.setAttribute("role", "option");
      a.setAttribute("aria-selected", index === selected ? "true" : "false");
      a.dataset.deviceId = item.id;
      const name = document.createElement("strong");
      name.textContent = item.storage ? `${item.name} · ${item.storage}` : item.name;
      const category = document.createElement("span");
      category.className = "muted small";
      category.textContent = item.category;
      a.append(name, category);
      li.append(a);
      return li;
    }));
    list.hidden = items.length === 0;
  }
  async function suggest() {
    const query = input.value.trim();
    const ticket = ++asked;
    if (query.length < 2) { items = []; render(); return; }
    const response = await fetch(`${form.dataset.typeahead}?q=${encodeURIComponent(query)}`, { headers: { Accept: "application/json" } });
    if (!response.ok || ticket !== asked) return;
    items = await response.json();
    selected = -1;
    render();
  }
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 120); });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      selected = (selected + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      render();
    } else if (event.key === "Enter" && selected >= 0) {
      event.preventDefault();
      window.location.href = items[selected].url;
    } else if (event.key === "Escape") {
      items = []; render();
    }
  });
  document.addEventListener("click", (event) => { if (!form.contains(event.target)) { list.hidden = true; } });
}

// -- questionnaire: show_if, exactly as the server applies it -------------------------------------------------
function holds(condition, answers, ranks) {
  if (!condition) return true;
  if (condition.all) return condition.all.every((item) => holds(item, answers, ranks));
  if (condition.any) return condition.any.some((item) => holds(item, answers, ranks));
  if (condition.not) return !holds(condition.not, answers, ranks);
  const value = answers[condition.question];
  if (value === undefined) return false;
  const operator = Object.keys(condition).find((key) => key !== "question");
  const operand = condition[operator];
  switch (operator) {
    case "is": return value === operand;
    case "in": return operand.includes(value);
    case "at_least": {
      const order = ranks[condition.question] || [];
      return order.includes(value) && order.indexOf(value) >= order.indexOf(operand);
    }
    case "includes": return value.includes(operand);
    case "lacks": return !value.includes(operand);
    case "less_than": return value < operand;
    case "greater_than": return value > operand;
    default: return false;
  }
}

function readAnswer(question) {
  const kind = question.dataset.kind;
  const inputs = [...question.querySelectorAll("input")];
  if (kind === "multiple_choice") return inputs.filter((i) => i.checked).map((i) => i.value);
  if (kind === "number") {
    const raw = inputs[0].value.trim();
    return raw === "" ? undefined : Number(raw);
  }
  const checked = inputs.find((i) => i.checked);
  if (!checked) return undefined;
  if (kind === "yes_no") return checked.value === "true";
  return checked.value;
}

function setUpQuestionnaire(root) {
  const form = root.closest("form");
  const questions = [...root.querySelectorAll(".question")];
  // answers the shop gave itself (the device's platform): known before any question is answered
  const fixed = {};
  root.querySelectorAll("input[data-fixed-answer]").forEach((input) => { fixed[input.name] = input.value; });
  const steps = [...root.querySelectorAll(".step")];
  const ranks = {};
  questions.forEach((q) => { if (q.dataset.options) ranks[q.dataset.question] = JSON.parse(q.dataset.options); });
  let current = 0;

  function applyShowIf() {
    const answers = { ...fixed };
    for (const question of questions) {
      const condition = question.dataset.showIf ? JSON.parse(question.dataset.showIf) : null;
      const visible = holds(condition, answers, ranks);
      question.hidden = !visible;
      question.querySelectorAll("input").forEach((input) => { input.disabled = !visible; });
      if (visible) {
        const value = readAnswer(question);
        if (value !== undefined) answers[question.dataset.question] = value;
      }
    }
  }
  const usable = () => steps.filter((step) => [...step.querySelectorAll(".question")].some((q) => !q.hidden));
  function show(index) {
    const visible = usable();
    current = Math.max(0, Math.min(index, visible.length - 1));
    steps.forEach((step) => step.classList.toggle("active", step === visible[current]));
    visible.forEach((step, i) => {
      step.querySelector("[data-prev]").hidden = i === 0;
      step.querySelector("[data-next]").hidden = i === visible.length - 1;
    });
    form.classList.toggle("on-last", current === visible.length - 1);
  }
  function stepIsAnswered(step) {
    for (const question of step.querySelectorAll(".question:not([hidden])")) {
      const required = question.querySelector("input[required]");
      if (required && readAnswer(question) === undefined) { required.reportValidity(); return false; }
    }
    return true;
  }
  root.addEventListener("change", () => { applyShowIf(); show(current); });
  root.addEventListener("click", (event) => {
    const step = event.target.closest(".step");
    if (event.target.matches("[data-next]") && stepIsAnswered(step)) { show(current + 1); root.scrollIntoView({ behavior: "smooth" }); }
    if (event.target.matches("[data-prev]")) { show(current - 1); root.scrollIntoView({ behavior: "smooth" }); }
  });
  applyShowIf();
  const firstError = usable().findIndex((step) => step.querySelector(".has-error"));
  show(firstError >= 0 ? firstError : 0);
}

// -- a filter that applies as soon as it changes: <select data-submit-on-change> (no inline handler: the CSP
// allows the shop's own scripts only)
function submitOnChange(field) {
  field.addEventListener("change", () => field.form.requestSubmit());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-menu]").forEach(setUpMenu);
  document.querySelectorAll("[data-submit-on-change]").forEach(submitOnChange);
  document.querySelectorAll("form[data-typeahead]").forEach(setUpTypeahead);
  document.querySelectorAll("[data-questionnaire]").forEach(setUpQuestionnaire);
});
