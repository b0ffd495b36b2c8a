// Run with express@4.21.2 and cookie@0.7.2 installed: node gen-express-vectors.js > express-vectors.json
// Generates golden vectors for package cookies from the real express res.cookie and
// cookie.parse (express 4.21.2, cookie 0.7.2). Date.now is pinned.
const express = require('express');
const cookie = require('cookie');
const http = require('http');
const NOW = Date.UTC(2026, 10, 27, 11, 6, 48, 123);
Date.now = () => NOW;
const values = ['q2QFdHWlbRZAwGgTLdBA3A==', 'a b+c/d?e&f=g;h,i"j\\k', "-_.!~*'()", 'ünï€😀', '', '%41%zz'];
const opts = [
  {maxAge: 600000, path: '/api/auth/p/handler', httpOnly: true, sameSite: 'lax'},
  {maxAge: 0, domain: '127.0.0.1', path: '/api/auth/p', httpOnly: true, sameSite: 'lax'},
  {maxAge: 86400000000, path: '/api/auth/p', httpOnly: true, secure: true, sameSite: 'none'},
  {maxAge: 1500, path: '/x', httpOnly: true, secure: true, sameSite: 'lax'},
];
const app = express();
app.get('/', (req, res) => {
  for (const v of values) for (const o of opts) res.cookie('p-refresh-token', v, {...o});
  res.end();
});
const headers = [
  'a=1; b=2', 'a=1; a=2', ' a = 1 ;b=  "x y" ', 'a="', 'a=""', 'junk; a=1; more junk; b=2',
  'a=%E2%82%AC', 'a=%E2%82', 'a=%zz%41', 'a=b=c', 'a', '=b; c=d', 'a=1;;b=2', 'x=%2B%2F%3D',
  'a=\t1\t;\tb=2', 'k=v;k2="q"uoted"', 'a=1, b=2', '',
];
const server = app.listen(0, '127.0.0.1', () => {
  http.get({host: '127.0.0.1', port: server.address().port, path: '/'}, r => {
    const set = r.headers['set-cookie'];
    const serialize = [];
    let i = 0;
    for (const v of values) for (const o of opts) serialize.push({value: v, opts: o, want: set[i++]});
    const parse = headers.map(h => ({header: h, want: Object.assign({}, cookie.parse(h))}));
    console.log(JSON.stringify({now: NOW, serialize, parse}, null, 1));
    server.close();
  });
});
