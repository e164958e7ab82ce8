// Service worker of /darurat: keeps the app shell so it opens without network; alerts are
// never cached (app.js retries them itself until the server confirms).
const CACHE = "darurat-v1";
const SHELL = [
  "/darurat/",
  "/darurat/app.js",
  "/darurat/app.css",
  "/darurat/manifest.webmanifest",
  "/darurat/icon.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).pathname.startsWith("/darurat/api/")) {
    return; // API calls go to the network, always
  }
  // Network first (a new version reaches the phone), the cached shell when offline.
  event.respondWith(
    fetch(req)
      .then((res) => {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(req, copy));
        return res;
      })
      .catch(() => caches.match(req).then((hit) => hit || caches.match("/darurat/"))),
  );
});
