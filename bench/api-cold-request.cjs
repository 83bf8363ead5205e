'use strict';
/**
 * autocannon setupRequest for bench/api.bench.ts's cold series requests (a plain CommonJS file: in
 * workers mode autocannon requires it by path). Every request shifts the range's `from` and `to` one
 * more minute into the past, so each one is a different key of the API's series cache: a miss, as the
 * first request of a range or the first after a write to the channel is.
 */
let n = 0;
const MINUTE = 60000;
module.exports = function coldRequest(request) {
  const url = new URL(request.path, 'http://x');
  const k = ++n;
  for (const p of ['from', 'to']) url.searchParams.set(p, new Date(Date.parse(url.searchParams.get(p)) - k * MINUTE).toISOString());
  request.path = url.pathname + url.search;
  return request;
};
