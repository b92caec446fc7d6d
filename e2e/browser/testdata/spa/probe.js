// probe(requests) fetches each request from this page's origin (CORS mode,
// as an SPA would) and reports, for each, whether the page could read the
// response. A response the browser refuses to expose (a CORS error) makes
// fetch reject with a TypeError that looks like a network error; chromium
// names the CORS block on the console, where the test reads it.
'use strict';

async function probeOne(r) {
  const init = {method: r.method || 'GET', headers: r.headers || {}};
  if (r.body) init.body = r.body;
  const out = {name: r.name, url: r.url, origin: location.origin};
  try {
    const resp = await fetch(r.url, init);
    out.read = true;
    out.status = resp.status;
    out.body = (await resp.text()).slice(0, 300);
  } catch (e) {
    out.read = false;
    out.error = e.name + ': ' + e.message;
  }
  return out;
}

async function probe(requests) {
  document.body.dataset.state = 'working';
  const report = [];
  for (const r of requests) report.push(await probeOne(r));
  document.getElementById('report').textContent = JSON.stringify(report, null, 2);
  document.body.dataset.state = 'done';
  return report;
}
