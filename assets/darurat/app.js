// Darurat 112 Kota Cirebon: registration, three deliberate taps, position, retries.
// API (served by siaga under /darurat/api/):
//   POST register {name, phone}            -> {enrolment_id}
//   POST verify   {enrolment_id, code}     -> {device_key}
//   POST alert    Authorization: Bearer <device_key>
//                 {client_id, category?, lat?, lon?, accuracy?, fixed_at?} -> {received: true}
"use strict";

const API = "/darurat/api/";
const STEP_TIMEOUT_MS = 10000; // an unfinished sequence falls back (pocket presses)
const GEO_WAIT_MS = 8000; // how long the third tap waits for a position before sending
const $ = (id) => document.getElementById(id);
const store = window.localStorage;

function status(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = kind || "";
}

async function post(path, body, key) {
  const headers = { "Content-Type": "application/json" };
  if (key) headers.Authorization = "Bearer " + key;
  const res = await fetch(API + path, { method: "POST", headers, body: JSON.stringify(body) });
  let data = {};
  try { data = await res.json(); } catch (_) { /* empty body */ }
  if (!res.ok) {
    const err = new Error(data.error || ("HTTP " + res.status));
    err.status = res.status;
    throw err;
  }
  return data;
}

function show(section) {
  $("daftar").hidden = section !== "daftar";
  $("alarm").hidden = section !== "alarm";
}

// ---- registration ----
$("form-daftar").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  status("Mendaftarkan…");
  try {
    const r = await post("register", { name: $("nama").value, phone: $("hp").value });
    store.setItem("enrolment_id", r.enrolment_id);
    $("form-daftar").hidden = true;
    $("form-kode").hidden = false;
    status("Tunggu kode dari petugas 112.");
  } catch (e) {
    status("Pendaftaran gagal: " + e.message, "gagal");
  }
});

$("form-kode").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  status("Memeriksa kode…");
  try {
    const r = await post("verify", { enrolment_id: store.getItem("enrolment_id"), code: $("kode").value });
    store.setItem("device_key", r.device_key);
    store.removeItem("enrolment_id");
    status("Terdaftar. Tombol darurat siap dipakai.", "ok");
    show("alarm");
  } catch (e) {
    status("Kode tidak diterima: " + e.message, "gagal");
  }
});

// ---- position ----
let position = null;
function locate() {
  if (!("geolocation" in navigator)) {
    $("posisi").textContent = "Lokasi tidak tersedia di peramban ini.";
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => {
      position = p;
      $("posisi").textContent = "Lokasi ditemukan (±" + Math.round(p.coords.accuracy) + " m).";
    },
    () => { $("posisi").textContent = "Lokasi tidak bisa dibaca; tanda bahaya tetap dikirim."; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

function waitForPosition() {
  return new Promise((resolve) => {
    if (position) return resolve(position);
    const started = Date.now();
    const tick = setInterval(() => {
      if (position || Date.now() - started > GEO_WAIT_MS) {
        clearInterval(tick);
        resolve(position);
      }
    }, 250);
  });
}

// ---- three deliberate taps: arm, category (or skip), confirm ----
let step = 0;
let category = null;
let stepTimer = null;

function reset() {
  step = 0;
  category = null;
  clearTimeout(stepTimer);
  $("tombol").hidden = false;
  $("tombol").textContent = "MINTA BANTUAN";
  $("tombol").className = "besar";
  $("kategori").hidden = true;
  $("batal").hidden = true;
  $("langkah").textContent = "Tekan tombol tiga kali untuk mengirim tanda bahaya.";
}

function armTimeout() {
  clearTimeout(stepTimer);
  stepTimer = setTimeout(reset, STEP_TIMEOUT_MS);
}

$("tombol").addEventListener("click", async () => {
  if (step === 0) { // tap 1
    step = 1;
    locate();
    $("tombol").hidden = true;
    $("kategori").hidden = false;
    $("batal").hidden = false;
    $("langkah").textContent = "Langkah 2 dari 3: pilih jenis kejadian atau Lewati.";
    armTimeout();
  } else if (step === 2) { // tap 3
    step = 3;
    clearTimeout(stepTimer);
    $("tombol").hidden = true;
    $("batal").hidden = true;
    $("langkah").textContent = "Mengirim tanda bahaya…";
    await queueAlert();
  }
});

$("kategori").addEventListener("click", (ev) => {
  const b = ev.target.closest("button");
  if (!b || step !== 1) return;
  category = b.dataset.kategori || null; // tap 2
  step = 2;
  $("kategori").hidden = true;
  $("tombol").hidden = false;
  $("tombol").textContent = "KIRIM SEKARANG";
  $("tombol").className = "besar siap";
  $("langkah").textContent = "Langkah 3 dari 3: tekan KIRIM SEKARANG.";
  armTimeout();
});

$("batal").addEventListener("click", reset);

// ---- sending, with retries while offline ----
function newId() {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function queueAlert() {
  const p = await waitForPosition();
  const alert = { client_id: newId() };
  if (category) alert.category = category;
  if (p) {
    alert.lat = p.coords.latitude;
    alert.lon = p.coords.longitude;
    alert.accuracy = p.coords.accuracy;
    alert.fixed_at = Math.round(p.timestamp);
  }
  store.setItem("pending_alert", JSON.stringify(alert));
  send(0);
}

let retryTimer = null;
async function send(attempt) {
  clearTimeout(retryTimer);
  const raw = store.getItem("pending_alert");
  if (!raw) return;
  status("Mengirim tanda bahaya…");
  try {
    await post("alert", JSON.parse(raw), store.getItem("device_key"));
    store.removeItem("pending_alert");
    status("Tanda bahaya DITERIMA. Petugas 112 akan segera menelepon Anda kembali.", "ok");
    $("langkah").textContent = "";
    setTimeout(reset, 30000);
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      store.removeItem("device_key");
      status("Perangkat tidak dikenal lagi; daftar ulang lalu kirim lagi. Atau telepon 112.", "gagal");
      show("daftar");
      return;
    }
    const wait = Math.min(60000, 2000 * 2 ** attempt);
    status("Belum terkirim (tidak ada sinyal?). Mencoba lagi dalam " + Math.round(wait / 1000) + " detik…", "gagal");
    retryTimer = setTimeout(() => send(attempt + 1), wait);
  }
}

window.addEventListener("online", () => send(0));

// ---- start ----
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/darurat/sw.js", { scope: "/darurat/" }).catch(() => {});
}
if (store.getItem("device_key")) {
  show("alarm");
  reset();
  if (store.getItem("pending_alert")) send(0); // an alert from before the app was closed
} else {
  show("daftar");
  if (store.getItem("enrolment_id")) {
    $("form-daftar").hidden = true;
    $("form-kode").hidden = false;
  }
}
