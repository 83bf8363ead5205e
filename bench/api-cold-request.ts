/**
 * autocannon setupRequest for bench/api.bench.ts's cold series requests (in workers mode autocannon
 * requires it by path; the worker inherits tsx's loader). Every request shifts the range's `from` and
 * `to` one more minute into the past, so each one is a different key of the API's series cache: a miss,
 * as the first request of a range or the first after a write to the channel is. Each autocannon run is a
 * new worker that starts again at one minute, so bench/api.bench.ts bumps the channel's data version
 * before each cold run: without that, its 2nd and 3rd rounds were answered from the 1st round's entries.
 */
let n = 0;
const MINUTE = 60_000;

function coldRequest<R extends { path: string }>(request: R): R {
  const url = new URL(request.path, 'http://x');
  const k = ++n;
  for (const p of ['from', 'to']) {
    const at = Date.parse(url.searchParams.get(p) ?? '');
    if (Number.isFinite(at)) url.searchParams.set(p, new Date(at - k * MINUTE).toISOString());
  }
  request.path = url.pathname + url.search;
  return request;
}

export = coldRequest;
