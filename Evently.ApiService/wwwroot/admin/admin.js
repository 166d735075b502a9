// The admin page: logs in through the API, then draws the analytics and a seat map as SVG.
// No libraries; everything it shows comes from the documented API (/openapi/v1.json).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const TOKEN_KEY = "evently-admin";
const COLORS = {
  bookings: "#1565c0",
  cancellations: "#ef6c00",
  tickets: "#1565c0",
  fill: "#2e7d32",
  empty: "#e4e7eb",
  available: "#2e7d32",
  held: "#f9a825",
  booked: "#c62828"
};

const $ = id => document.getElementById(id);
const number = new Intl.NumberFormat("en");
const percent = value => `${(value * 100).toFixed(1)}%`;

// ---- signing in -------------------------------------------------------------------------------

function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY));
    return saved && new Date(saved.expiresAt) > new Date() ? saved : null;
  } catch {
    return null;
  }
}

async function logIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  $("login-button").disabled = true;
  try {
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: $("email").value, password: $("password").value })
    });
    const body = await response.json();
    if (!response.ok) {
      throw new Error(body.detail || "Logging in failed.");
    }
    if (body.user.role !== "admin") {
      throw new Error("This account is not an admin: the analytics are for admins only.");
    }
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: body.accessToken, expiresAt: body.expiresAt, email: body.user.email }));
    $("password").value = "";
    showDashboard();
  } catch (error) {
    $("login-error").textContent = error.message;
  } finally {
    $("login-button").disabled = false;
  }
}

function logOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  $("dashboard").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-section").hidden = false;
}

// ---- talking to the API -----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET with the admin's token; 'fresh' asks the API to compute the figures instead of using its cache.
async function get(path, fresh = false) {
  const headers = { Authorization: `Bearer ${session()?.token}` };
  if (fresh) {
    headers["Cache-Control"] = "no-cache";
  }
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    logOut();
    throw new ApiError(401, "Your session has ended: log in again.");
  }
  const body = await response.json();
  if (!response.ok) {
    throw new ApiError(response.status, body.detail || body.title || `The API answered ${response.status}.`);
  }
  return { body, age: Number(response.headers.get("Age") || 0) };
}

// ---- SVG helpers ------------------------------------------------------------------------------

function svg(width, height, label) {
  const root = document.createElementNS(SVG, "svg");
  root.setAttribute("width", width);
  root.setAttribute("height", height);
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.setAttribute("role", "img");
  root.setAttribute("aria-label", label);
  return root;
}

function add(parent, name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, value);
  }
  if (text !== undefined) {
    element.textContent = text;
  }
  parent.appendChild(element);
  return element;
}

// A rectangle with a tooltip and data attributes that say what it shows.
function bar(parent, x, y, width, height, fill, tooltip, data = {}) {
  const rect = add(parent, "rect", { x, y, width: Math.max(0, width), height: Math.max(0, height), fill });
  for (const [key, value] of Object.entries(data)) {
    rect.dataset[key] = value;
  }
  add(rect, "title", {}, tooltip);
  return rect;
}

// A round upper bound for an axis, and its ticks.
function axis(max) {
  if (max <= 0) {
    return { top: 1, ticks: [0, 1] };
  }
  const step = Math.pow(10, Math.floor(Math.log10(max)));
  const unit = [1, 2, 5, 10].map(f => f * step).find(u => max / u <= 5) ?? step * 10;
  const top = Math.ceil(max / unit) * unit;
  const ticks = [];
  for (let tick = 0; tick <= top + unit / 2; tick += unit) {
    ticks.push(tick);
  }
  return { top, ticks };
}

function replace(container, content) {
  container.replaceChildren(content);
}

function emptyNote(container, text) {
  const note = svg(420, 40, text);
  add(note, "text", { x: 8, y: 24, class: "empty" }, text);
  replace(container, note);
}

function legend(container, entries) {
  container.replaceChildren(...entries.map(([color, text]) => {
    const item = document.createElement("span");
    const swatch = svg(12, 12, "");
    add(swatch, "rect", { width: 12, height: 12, rx: 2, fill: color });
    item.append(swatch, text);
    return item;
  }));
}

// ---- the charts -------------------------------------------------------------------------------

function drawDaily(daily) {
  const left = 44, bottom = 40, top = 28, height = 260;
  const slot = Math.max(10, Math.min(60, Math.floor(1100 / daily.length)));
  const width = left + slot * daily.length + 10;
  const { top: max, ticks } = axis(Math.max(...daily.map(d => Math.max(d.bookings, d.cancellations))));
  const plot = height - top - bottom;
  const y = value => top + plot - (value / max) * plot;
  const chart = svg(width, height, "Bookings and cancellations per day");

  for (const tick of ticks) {
    add(chart, "line", { x1: left, x2: width - 10, y1: y(tick), y2: y(tick), class: "grid" });
    add(chart, "text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, number.format(tick));
  }
  const labelEvery = Math.ceil(daily.length / 12);
  daily.forEach((day, i) => {
    const x = left + i * slot;
    const half = (slot - 4) / 2;
    bar(chart, x + 2, y(day.bookings), half, y(0) - y(day.bookings), COLORS.bookings,
      `${day.date}: ${number.format(day.bookings)} bookings, ${number.format(day.ticketsSold)} tickets still confirmed`,
      { date: day.date, series: "bookings", value: day.bookings });
    bar(chart, x + 2 + half, y(day.cancellations), half, y(0) - y(day.cancellations), COLORS.cancellations,
      `${day.date}: ${number.format(day.cancellations)} cancellations`,
      { date: day.date, series: "cancellations", value: day.cancellations });
    if (i % labelEvery === 0) {
      add(chart, "text", { x: x + slot / 2, y: height - bottom + 16, "text-anchor": "middle" }, day.date.slice(5));
    }
  });
  add(chart, "line", { x1: left, x2: width - 10, y1: y(0), y2: y(0), stroke: "#9aa5b1" });
  add(chart, "rect", { x: left, y: 6, width: 10, height: 10, fill: COLORS.bookings });
  add(chart, "text", { x: left + 14, y: 15, class: "name" }, "bookings made");
  add(chart, "rect", { x: left + 120, y: 6, width: 10, height: 10, fill: COLORS.cancellations });
  add(chart, "text", { x: left + 134, y: 15, class: "name" }, "cancellations");
  replace($("daily-chart"), chart);
}

// Horizontal bars: one row per item, a name on the left, the value at the end of the bar.
function drawBars(container, rows, label, { max, text, color, data }) {
  if (rows.length === 0) {
    emptyNote(container, `No ${label.toLowerCase()} yet.`);
    return;
  }
  const nameWidth = 190, barWidth = 260, rowHeight = 24;
  const chart = svg(nameWidth + barWidth + 150, rows.length * rowHeight + 8, label);
  rows.forEach((row, i) => {
    const y = 4 + i * rowHeight;
    const name = row.name.length > 28 ? `${row.name.slice(0, 27)}…` : row.name;
    add(chart, "text", { x: 0, y: y + 15, class: "name" }, name);
    add(chart, "rect", { x: nameWidth, y: y + 3, width: barWidth, height: rowHeight - 8, fill: COLORS.empty });
    bar(chart, nameWidth, y + 3, barWidth * (max > 0 ? row.value / max : 0), rowHeight - 8, color(row),
      `${row.name}: ${text(row)}`, data(row));
    add(chart, "text", { x: nameWidth + barWidth + 6, y: y + 15 }, text(row));
  });
  replace(container, chart);
}

function drawTop(events) {
  drawBars($("top-chart"), events.map(e => ({ ...e, value: e.ticketsSold })), "Most booked events", {
    max: Math.max(0, ...events.map(e => e.ticketsSold)),
    text: e => `${number.format(e.ticketsSold)} tickets`,
    color: () => COLORS.tickets,
    data: e => ({ eventId: e.eventId, value: e.ticketsSold })
  });
  const body = $("top-table").tBodies[0];
  body.replaceChildren(...events.map(e => {
    const row = document.createElement("tr");
    row.dataset.eventId = e.eventId;
    for (const value of [e.name, number.format(e.ticketsSold), number.format(e.bookings), number.format(e.cancellations),
      percent(e.cancellationRate), percent(e.utilization)]) {
      row.insertCell().textContent = value;
    }
    const line = row.insertCell();
    line.className = "waitlist";
    line.title = `${e.waiting} waiting, ${e.offersOpen} offers open, ${e.offersClaimed} claimed, ${e.offersExpired} expired`;
    line.textContent = `${number.format(e.waiting)} · ${number.format(e.offersOpen)} · ${number.format(e.offersClaimed)} · ${number.format(e.offersExpired)}`;
    return row;
  }));
}

const UTILIZATION_BARS = 20;

function drawUtilization(report) {
  $("overall").textContent = percent(report.overall);
  const shown = report.events.slice(0, UTILIZATION_BARS);
  drawBars($("utilization-chart"), shown.map(e => ({ ...e, value: e.utilization })), "Scheduled events", {
    max: 1,
    text: e => `${percent(e.utilization)} (${number.format(e.booked)} of ${number.format(e.capacity)})`,
    color: e => (e.utilization >= 0.9 ? COLORS.booked : COLORS.fill),
    data: e => ({ eventId: e.eventId, value: e.utilization })
  });
  $("utilization-note").textContent = report.events.length > shown.length
    ? `The ${shown.length} fullest of ${number.format(report.events.length)} scheduled events.`
    : `${number.format(report.events.length)} scheduled events.`;
}

function drawSeats(seats) {
  const counts = { available: 0, held: 0, booked: 0 };
  seats.forEach(seat => counts[seat.status]++);
  legend($("seat-legend"), ["available", "held", "booked"].map(status => [COLORS[status], `${status} ${counts[status]}`]));
  if (seats.length === 0) {
    emptyNote($("seat-map"), "This event has no numbered seats.");
    return;
  }

  // Sections one under the other, a line per row, seats by number.
  const size = 18, gap = 4, labelWidth = 90;
  const sections = new Map();
  for (const seat of seats) {
    const rows = sections.get(seat.section) ?? new Map();
    sections.set(seat.section, rows);
    rows.set(seat.row, [...(rows.get(seat.row) ?? []), seat]);
  }
  const widest = Math.max(...seats.map(s => s.number));
  const lines = [...sections.values()].reduce((n, rows) => n + rows.size + 1, 0);
  const chart = svg(labelWidth + widest * (size + gap) + 10, lines * (size + gap) + 6, "Seat map");
  let line = 0;
  for (const [section, rows] of sections) {
    add(chart, "text", { x: 0, y: line * (size + gap) + 14, class: "name" }, section);
    line++;
    for (const [row, rowSeats] of rows) {
      const y = line * (size + gap);
      add(chart, "text", { x: labelWidth - 10, y: y + 13, "text-anchor": "end" }, row);
      for (const seat of rowSeats) {
        const rect = bar(chart, labelWidth + (seat.number - 1) * (size + gap), y, size, size, COLORS[seat.status],
          `${seat.section} ${seat.row}${seat.number}: ${seat.status}`, { seatId: seat.id, status: seat.status });
        rect.setAttribute("rx", 3);
      }
      line++;
    }
  }
  replace($("seat-map"), chart);
}

function fillEventChoices(top, utilization) {
  const select = $("seat-event");
  const chosen = select.value;
  const seen = new Set();
  const options = [...top, ...utilization.events.slice(0, 100)]
    .filter(e => !seen.has(e.eventId) && seen.add(e.eventId))
    .map(e => new Option(`${e.name} (#${e.eventId})`, e.eventId));
  select.replaceChildren(new Option("choose an event", ""), ...options);
  select.value = chosen;
}

// ---- the page ---------------------------------------------------------------------------------

function showTotals(figures) {
  $("total-bookings").textContent = number.format(figures.totalBookings);
  $("confirmed-bookings").textContent = number.format(figures.confirmedBookings);
  $("cancelled-bookings").textContent = number.format(figures.cancelledBookings);
  $("tickets-sold").textContent = number.format(figures.ticketsSold);
  $("cancellation-rate").textContent = percent(figures.cancellationRate);
  $("from").value = figures.from;
  $("to").value = figures.to;
}

async function load(fresh = false) {
  $("error").textContent = "";
  $("status").textContent = "Loading…";
  const range = new URLSearchParams();
  if ($("from").value) range.set("from", $("from").value);
  if ($("to").value) range.set("to", $("to").value);
  try {
    const [bookings, top, utilization] = await Promise.all([
      get(`/api/analytics/bookings?${range}`, fresh),
      get("/api/analytics/events?top=10", fresh),
      get("/api/analytics/utilization", fresh)
    ]);
    showTotals(bookings.body);
    drawDaily(bookings.body.daily);
    drawTop(top.body);
    drawUtilization(utilization.body);
    fillEventChoices(top.body, utilization.body);
    history.replaceState(null, "", `?${new URLSearchParams({ from: bookings.body.from, to: bookings.body.to })}`);
    const age = Math.max(bookings.age, top.age, utilization.age);
    $("status").textContent = age > 0 ? `Figures up to ${age} s old.` : "Figures just computed.";
  } catch (error) {
    $("status").textContent = "";
    $("error").textContent = error.message;
  }
}

async function showSeats(event) {
  event?.preventDefault();
  const id = $("seat-event-id").value || $("seat-event").value;
  if (!id) {
    return;
  }
  $("error").textContent = "";
  try {
    drawSeats((await get(`/api/events/${encodeURIComponent(id)}/seats`)).body);
    $("seat-map").dataset.eventId = id;
  } catch (error) {
    $("seat-legend").replaceChildren();
    $("seat-map").replaceChildren();
    $("error").textContent = error.status === 404 ? `There is no event ${id}.` : error.message;
  }
}

function showDashboard() {
  const current = session();
  $("login-section").hidden = true;
  $("dashboard").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = current.email;
  load();
}

document.addEventListener("DOMContentLoaded", () => {
  const query = new URLSearchParams(location.search);
  $("from").value = query.get("from") ?? "";
  $("to").value = query.get("to") ?? "";
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("range-form").addEventListener("submit", event => {
    event.preventDefault();
    load();
  });
  $("refresh").addEventListener("click", () => load(true));
  $("seat-form").addEventListener("submit", showSeats);
  $("seat-event").addEventListener("change", () => {
    $("seat-event-id").value = "";
    showSeats();
  });
  if (session()) {
    showDashboard();
  }
});
