#!/usr/bin/env node
// Generates the JSON vector files next to this script from the npm packages
// Backstage itself uses, so the Go tests can check internal/jsrules against Node
// without needing Node:
//
//   json-stringify.json  JSON.stringify of strings (incl. invalid UTF-8 as Node's
//                        decoder reads it), numbers, key order, JSON.parse round trips
//   entityref.json       @backstage/catalog-model parseEntityRef / stringifyEntityRef
//   lowercase.json       String.prototype.toLowerCase (every code point, final sigma)
//   minimatch.json       minimatch with the options Backstage uses (origins, CORS,
//                        catalog rules, file targets)
//   frame-page.json      @backstage/plugin-auth-node sendWebMessageResponse pages
//
// Usage: node gen-vectors.js [--out DIR]
// Packages come from $BACKSTAGE_NODE_MODULES, else the integration cache
// /var/cache/authbackend-e2e/*/node_modules (see integration/node/install.sh).
// Output is deterministic (seeded PRNG), so re-running must reproduce the files.
'use strict';

const fs = require('fs');
const path = require('path');

function findNodeModules() {
  const want = ['minimatch', '@backstage/catalog-model', '@backstage/plugin-auth-node'];
  const candidates = [];
  if (process.env.BACKSTAGE_NODE_MODULES) candidates.push(process.env.BACKSTAGE_NODE_MODULES);
  const cache = '/var/cache/authbackend-e2e';
  if (fs.existsSync(cache)) {
    for (const d of fs.readdirSync(cache).sort()) candidates.push(path.join(cache, d, 'node_modules'));
  }
  for (const c of candidates) {
    if (want.every(p => fs.existsSync(path.join(c, p, 'package.json')))) return c;
  }
  throw new Error('no node_modules with ' + want.join(', ') + ' (set BACKSTAGE_NODE_MODULES)');
}

const NM = findNodeModules();
const req = p => require(path.join(NM, p));
const version = p => req(p + '/package.json').version;
// The minimatch that @backstage/plugin-auth-backend, backend-defaults and
// plugin-catalog-backend resolve to (they share one copy at the top level).
const resolveFrom = (pkg, dep) => require.resolve(dep, { paths: [path.join(NM, pkg)] });
const minimatchPath = resolveFrom('@backstage/plugin-auth-backend', 'minimatch');
for (const p of ['@backstage/backend-defaults', '@backstage/plugin-catalog-backend']) {
  if (fs.existsSync(path.join(NM, p)) && resolveFrom(p, 'minimatch') !== minimatchPath) {
    throw new Error(p + ' resolves a different minimatch: ' + resolveFrom(p, 'minimatch'));
  }
}
const { Minimatch, minimatch } = require(minimatchPath);
const minimatchVersion = require(path.join(path.dirname(minimatchPath), '..', '..', 'package.json')).version;
const catalogModel = req('@backstage/catalog-model');
const { sendWebMessageResponse } = req('@backstage/plugin-auth-node');

let outDir = __dirname;
const oi = process.argv.indexOf('--out');
if (oi >= 0) outDir = process.argv[oi + 1];
// --scale N multiplies the random minimatch cases (for a long local run; the
// committed vectors use 1). --seed changes the random cases.
const si = process.argv.indexOf('--scale');
const scale = si >= 0 ? Number(process.argv[si + 1]) : 1;
const seedi = process.argv.indexOf('--seed');
const seed = seedi >= 0 ? Number(process.argv[seedi + 1]) : 20240601;

// mulberry32: a small deterministic PRNG.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(seed);
const pick = a => a[Math.floor(rand() * a.length)];
const int = n => Math.floor(rand() * n);
const b64 = buf => Buffer.from(buf).toString('base64');

// One JSON value per line for the arrays that hold the vectors, so diffs stay
// readable and files small.
function write(name, data) {
  const lines = ['{'];
  const keys = Object.keys(data);
  keys.forEach((k, i) => {
    const v = data[k];
    const comma = i < keys.length - 1 ? ',' : '';
    if (Array.isArray(v)) {
      lines.push(` ${JSON.stringify(k)}: [`);
      v.forEach((e, j) => lines.push('  ' + JSON.stringify(e) + (j < v.length - 1 ? ',' : '')));
      lines.push(' ]' + comma);
    } else {
      lines.push(` ${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}`);
    }
  });
  lines.push('}');
  fs.writeFileSync(path.join(outDir, name), lines.join('\n') + '\n');
}

const header = extra => ({
  generator: 'internal/jsrules/testdata/gen-vectors.js',
  ...extra,
});

// ---------------------------------------------------------------- JSON.stringify
function jsonVectors() {
  const strings = [];
  const addBytes = bytes => {
    const buf = Buffer.from(bytes);
    // A JavaScript string cannot hold invalid UTF-8: this is what a decoder
    // (Buffer#toString, TextDecoder) makes of the same bytes.
    const s = buf.toString('utf8');
    strings.push({ in: b64(buf), out: b64(Buffer.from(JSON.stringify(s), 'utf8')) });
  };
  const addString = s => addBytes(Buffer.from(s, 'utf8'));
  for (let c = 0; c < 0x80; c++) addString('a' + String.fromCharCode(c) + 'b');
  for (const s of [
    '', 'user:default/alice', 'a<b>&c', '\u2028', '\u2029', 'a\u2028b\u2029c', '\\u2028', '\\\u2028',
    '"\\"', 'jöhn 日本 😀', '\ufffd', '\ufeff', '\u0085', '\u00a0', '\u200b', '\u061c', '\ud7ff\ue000',
    '</script><script>alert(1)</script>', "it's", '\u007f\u0080\u009f',
  ]) addString(s);
  for (const hex of [
    'ff', '80', 'bf', 'c0', 'c1af', 'c0af', 'c2', 'c27f', 'e2', 'e280', 'e28028', 'e2808061', 'e0', 'e080af',
    'e09f80', 'eda080', 'edbfbf', 'ed9fbf', 'ee8080', 'f0', 'f09f', 'f09f98', 'f09f9880', 'f08f8080', 'f4908080',
    'f48fbfbf', 'f5', 'f8', 'fe', 'ffff', 'e2ffe2', '61ff62', 'f09f98e2808c', 'c3a9c3', 'c3e9', 'e0a0', 'e0a0c0',
    'f090', 'f09080', 'f0908061', 'efbfbd', 'efbfbe', 'efbfbf', 'f0908080',
  ]) addBytes(Buffer.from(hex, 'hex'));
  // Random byte strings, biased towards UTF-8 lead and continuation bytes.
  const pieces = [0x61, 0x22, 0x5c, 0x0a, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xff, 0xa0, 0x9f, 0x90, 0x8f];
  for (let i = 0; i < 400; i++) {
    const n = 1 + int(8);
    const bytes = [];
    for (let j = 0; j < n; j++) bytes.push(rand() < 0.7 ? pick(pieces) : int(256));
    addBytes(bytes);
  }

  const numbers = [];
  const f64 = new Float64Array(1);
  const u8 = new Uint8Array(f64.buffer);
  const bitsOf = x => {
    f64[0] = x;
    return Buffer.from(u8).reverse().toString('hex');
  };
  const addNumber = x => numbers.push({ bits: bitsOf(x), out: JSON.stringify(x) });
  for (const x of [
    0, -0, 1, -1, 0.1, 0.2 + 0.1, 1 / 3, -1.5e-10, 1e21, 1e20, 123456789012345680000, 1e-6, 1e-7, 0.000001,
    0.0000015, 1.7976931348623157e308, 5e-324, -5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1795777608, 3600,
    NaN, Infinity, -Infinity, 4.35, 0.5, 100, 1e300, 123e-20, 1.5e21, 9.999999999999999e20,
  ]) addNumber(x);
  for (let i = 0; i < 300; i++) {
    for (let j = 0; j < 8; j++) u8[j] = int(256);
    addNumber(f64[0]);
  }
  for (let i = 0; i < 100; i++) addNumber(Math.round((rand() - 0.5) * 10 ** int(18)) / 10 ** int(8));

  // Key order: JavaScript lists integer-like keys first (ascending), then the others
  // in insertion order.
  const objects = [];
  const keyPool = ['a', 'b', '0', '1', '2', '10', '01', '-1', '1.5', '4294967294', '4294967295', '9007199254740993', ' 1', 'z', '__proto_', 'length', '', '٣'];
  for (let i = 0; i < 120; i++) {
    const keys = [];
    const n = 1 + int(7);
    for (let j = 0; j < n; j++) {
      const k = pick(keyPool);
      if (!keys.includes(k)) keys.push(k);
    }
    const o = {};
    keys.forEach((k, idx) => (o[k] = idx));
    // The same members inserted in sorted order (how a Go map is encoded).
    const sorted = {};
    [...keys].sort().forEach(k => (sorted[k] = o[k]));
    objects.push({ keys, out: JSON.stringify(o), sortedOut: JSON.stringify(sorted) });
  }

  // JSON text as JSON.parse then JSON.stringify sees it.
  const texts = [];
  for (const t of [
    '{"b":1,"a":2}', '{"a":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"2":1,"1":2,"x":3,"0":4}', '[1,-0,0.0,1.0,1e3,1E+2,-1.5e-10,12345678901234567890]',
    '"\\u2028\\u2029"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\udc00x"', '"\\ud800\\ud800"', '"a\\/b"', '"\\u0000\\u001f\\u007f"',
    '{"nested":{"z":[{"b":null,"a":true}],"y":false}}', '  { "a" : [ 1 , 2 ] }  ', '"\\ufffd"', '{"__proto__":1}', '[]', '{}',
    '0', '-0', '1e400', '-1e-400', '"\u2028"',
  ]) texts.push({ in: t, out: JSON.stringify(JSON.parse(t)) });

  write('json-stringify.json', header({ strings, numbers, objects, texts }));
}

// ---------------------------------------------------------------- entity refs
function entityRefVectors() {
  const cases = [];
  const add = (ref, ctx) => {
    const c = { ref };
    if (ctx) Object.assign(c, ctx);
    try {
      const r = catalogModel.parseEntityRef(ref, ctx);
      c.kind = r.kind;
      c.namespace = r.namespace;
      c.name = r.name;
      c.canonical = catalogModel.stringifyEntityRef(r);
    } catch (e) {
      c.error = { class: e.constructor.name, name: e.name, message: e.message };
    }
    cases.push(c);
  };
  const refs = [
    '', 'user:default/alice', 'User:Default/Alice', 'user:alice', 'alice', 'Group:Team-A', 'ns/a:b', 'user:ns/a:b',
    'user:ns/a/b', ':x', ':default/alice', 'user:/x', 'user:x/', 'user:default/', '/', ':', ':/', 'a:/', '/a', 'a/',
    'user:default/"quoted"', 'user:default/back\\slash', '"alice"', 'al"ice', 'user:default/İstanbul', 'user:default/ΟΔΟΣ',
    'user:default/ΟΔΟΣ.x', 'user:default/ΑΣ\'Β', 'user:default/STRAßE', 'user:default/ǅemal', 'user:default/ΣΑ',
    'user:default/Σ', 'USER:DEFAULT/ÅNGSTRÖM', 'user:default/Kelvin\u212a', 'user:default/\u2028', 'jöhn', 'ns/jöhn',
    'user:default/😀', 'user:default/a\u0000b', 'user:default/\ud801\udc00', 'ΣΣ:ΣΣ/ΣΣ', 'user:de/fault/x', 'a:b:c',
    'a:b/c:d', '  user:default/alice  ', 'user :default/alice', 'user:default/alice\n',
  ];
  for (const r of refs) add(r);
  for (const r of ['alice', 'ops/team-b', 'group:team-c', 'ns/a:b', 'Jöhn', '', ':x', 'x/']) {
    add(r, { defaultKind: 'User' });
    add(r, { defaultKind: 'Group', defaultNamespace: 'eng' });
    add(r, { defaultNamespace: 'Ops' });
    add(r, { defaultKind: '', defaultNamespace: '' });
  }
  const alphabet = ['a', 'B', ':', '/', 'İ', 'Σ', 'ß', '.', '"', '\\', ' ', 'ö', '😀', 'x', 'ς'];
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = int(9);
    for (let j = 0; j < n; j++) s += pick(alphabet);
    add(s, rand() < 0.3 ? { defaultKind: pick(['User', 'Group', '']), defaultNamespace: pick(['', 'eng', 'ΣΑ']) } : undefined);
  }
  write('entityref.json', header({ catalogModel: version('@backstage/catalog-model'), cases }));
}

// ---------------------------------------------------------------- toLowerCase
function lowerCaseVectors() {
  // Every code point whose toLowerCase differs from itself (alone in a string).
  const map = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    const l = s.toLowerCase();
    if (l !== s) map.push([cp, l]);
  }
  // Final sigma depends on the surrounding cased and case-ignorable characters.
  const contexts = [];
  const add = s => contexts.push({ in: s, out: s.toLowerCase(), locale: s.toLocaleLowerCase('en-US') });
  for (const s of [
    'Σ', 'ΑΣ', 'ΑΣΑ', 'ΑΣ.', 'ΑΣ.Α', 'Α.Σ', "ΑΣ'", "ΑΣ'Α", 'ΑΣ:', 'ΑΣ:Α', 'ΑΣ1', '1Σ', 'ΑΣ\u0301', 'Α\u0301Σ', 'ΑΣ\u0301Α',
    'ΑΣ\u00ad', 'ΑΣ\u00adΑ', 'ΑΣ ', 'ΑΣ Α', 'ΣΑ', 'ΑΣΣ', 'ΑΣΣΑ', 'aΣ', 'AΣb', 'ǅΣ', 'ᾼΣ', 'ΑΣ\u02b0', 'ΑΣ\u02b0Α',
    'ΑΣ\u2019Α', 'ΑΣ\u2019', 'Α\u2019Σ', 'ΑΣ\u00b7Α', 'ΑΣ\u0387Α', 'ΑΣ\u200dΑ', 'ΑΣ\u200d', 'ΑΣ\ud801\udc00', 'ΑΣ😀',
    'user:default/ΟΔΟΣ', 'user:default/ΟΔΟΣ.x', 'ΟΔΟΣ/Σ', 'İ', 'İİ', 'Iİ', 'ß', 'ẞ', 'ǅ', 'Ǆ', 'ᾈ', 'ΐ', 'Ω', 'K', 'Å',
    'ⅷ', 'Ⅷ', 'Ⓐ', '𐐀', '\u0130\u0307', 'ΑΣ\u0345', 'ΑΣ\u0345Α', 'ͅΣ', 'ᾼΣ', 'ΑΣ\u1dc0Α', 'ΑΣ\ua7f8',
    'ᏰΣ', 'ΑΣꭰ',
  ]) add(s);
  const alphabet = ['Σ', 'Α', 'a', '.', "'", ':', '\u0301', ' ', '1', '\u00ad', 'ς', 'σ', '\u02b0', '\u2019', '-', '_', 'İ', '\u200d', 'ǅ', '\u0345'];
  for (let i = 0; i < 600; i++) {
    let s = '';
    const n = 1 + int(6);
    for (let j = 0; j < n; j++) s += pick(alphabet);
    if (!s.includes('Σ')) s += 'Σ';
    add(s);
  }
  // minimatch decides literal-or-matcher on s.toUpperCase() !== s.toLowerCase():
  // the code points where that holds, as [first, last] ranges.
  const cased = [];
  // nocase matching is a RegExp with the "iu" flags: the classes of code points it
  // treats as equal (found through the case mappings, each pair confirmed by RegExp).
  const edges = new Map();
  const link = (a, b) => {
    if (!edges.has(a)) edges.set(a, new Set());
    if (!edges.has(b)) edges.set(b, new Set());
    edges.get(a).add(b);
    edges.get(b).add(a);
  };
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    const u = s.toUpperCase();
    const l = s.toLowerCase();
    if (u !== l) {
      const last = cased[cased.length - 1];
      if (last && last[1] === cp - 1) last[1] = cp;
      else cased.push([cp, cp]);
    }
    for (const t of [u, l]) {
      if ([...t].length === 1 && t !== s) link(cp, t.codePointAt(0));
    }
  }
  const foldClasses = [];
  const seen = new Set();
  for (const start of [...edges.keys()].sort((a, b) => a - b)) {
    if (seen.has(start)) continue;
    const comp = [];
    const stack = [start];
    seen.add(start);
    while (stack.length) {
      const c = stack.pop();
      comp.push(c);
      for (const d of edges.get(c)) if (!seen.has(d)) seen.add(d), stack.push(d);
    }
    comp.sort((a, b) => a - b);
    // Split the component into classes the RegExp really treats as equal.
    const left = [...comp];
    while (left.length) {
      const c = left.shift();
      const re = new RegExp('^' + String.fromCodePoint(c).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&') + '$', 'iu');
      const cls = [c, ...left.filter(d => re.test(String.fromCodePoint(d)))];
      for (const d of cls) if (left.includes(d)) left.splice(left.indexOf(d), 1);
      if (cls.length > 1) foldClasses.push(cls);
    }
  }
  write('lowercase.json', header({ icu: process.versions.icu, unicode: process.versions.unicode, map, contexts, cased, foldClasses }));
}

// ---------------------------------------------------------------- minimatch
const optionSets = {
  // auth-backend createOriginFilter and backend-defaults readCorsOptions.
  origin: { nocase: true, noglobstar: true },
  // plugin-catalog-backend DefaultCatalogRulesEnforcer (minimatch(target, pattern, ...)).
  rules: { nocase: true, dot: true },
  // The options glob (FileReaderProcessor) gives minimatch for file targets (glob's
  // optimizationLevel 2 and its own walk aside).
  files: { windowsPathsNoEscape: true, nocomment: true, nonegate: true },
  plain: {},
  dot: { dot: true },
};

function mmCase(cases, opts, pattern, paths, group, repeat) {
  const c = { opts, pattern };
  // A long pattern is stored as a unit and a repeat count.
  if (repeat) {
    c.repeat = repeat;
    pattern = pattern.repeat(repeat);
  }
  if (group) c.group = group;
  let mm;
  try {
    mm = new Minimatch(pattern, optionSets[opts]);
  } catch (e) {
    c.error = { class: e.constructor.name, message: e.message };
    cases.push(c);
    return;
  }
  const uniq = [...new Set(paths)];
  c.paths = uniq;
  // 'E': Node throws while matching (e.g. a RegExp stack overflow).
  const one = p => {
    try {
      return mm.match(p) ? '1' : '0';
    } catch {
      return 'E';
    }
  };
  c.match = uniq.map(one).join('');
  // minimatch() (the function the catalog uses) must agree with the class.
  if (opts === 'rules') {
    const viaFn = uniq.map(p => (minimatch(p, pattern, optionSets[opts]) ? '1' : '0')).join('');
    if (viaFn !== c.match) throw new Error('minimatch() and Minimatch#match disagree for ' + pattern);
  }
  cases.push(c);
}

const originPaths = [
  'https://evil.example', 'http://evil.example', 'https://app.example.com', 'https://a.example.com', 'https://A.EXAMPLE.COM',
  'https://a.b.example.com', 'https://example.com', 'https://.example.com', 'http://a.example.com', 'https://a.example.com:8443',
  'https://evil.com/.example.com', 'https://evil.com?.example.com', 'https://a.example.com.evil.com', 'https://evilexample.com',
  'http://localhost:3000', 'http://localhost:3001', 'http://localhost:3002', 'http://127.0.0.1:3000', 'http://[::1]:3000',
  'https://test-1.example.net', 'https://test-12.example.net', 'https://ac.example.org', 'https://cc.example.org', 'null', '',
  'https://', 'https:', 'https:/a', 'https:///a', 'https://a/', 'https://a/b', 'HTTPS://APP.EXAMPLE.COM', 'https://pr-7.preview.example.net',
  'https://ſ.example.com', 'https://\u212a.example.com', 'https://q7xz0k3v9w.invalid', 'http://q7xz0k3v9w.invalid:8080', 'file:///etc/passwd',
  'https://xn--80ak6aa92e.com', 'https://a.example.com/', 'http://localhost:80', 'http://localhost:120', 'http://localhost:0120', 'http://localhost:99',
];

function handMinimatch(cases) {
  const o = (p, extra = []) => mmCase(cases, 'origin', p, [...originPaths, ...extra], 'origin');
  for (const p of [
    '*', '**', '*://*', 'https://*', 'http*://*', 'http*://*:*', 'https://*.*', 'https://*.example.com', 'https://*.EXAMPLE.com',
    'https://test-?.example.net', 'http://localhost:{3000,3001}', 'http://localhost:{3000..3002}', 'http://localhost:{1..120}',
    'http://localhost:{099..120}', 'http://localhost:{80,{3000..3001}}', 'https://[ab]c.example.org', 'https://[!a]c.example.org',
    'https://[^a]c.example.org', 'https://[a-c]c.example.org', 'https://[c-a]c.example.org', 'https://[a-]c.example.org', 'https://[]a]c.example.org',
    'http://[::1]:3000', 'http://\\[::1\\]:3000', 'https://a.example.com', 'https://A.Example.Com', 'https://a.example.com/', 'https://a\\*',
    '!https://evil.example', '!!https://evil.example', '#https://evil.example', '\\#https://evil.example', '', '!', 'https://+(a|b).example.com',
    'https://@(a|pr-7.preview).example.{com,net}', 'https://*(a).example.com', 'https://?(a).example.com', 'https://!(evil).example', 'https://!(a).example.com',
    'http*://{evil,app}.example*', 'https://*.example.com:*', 'https://{,a.}example.com', 'https://{a,b}{c,d}.example.org', 'https://{a}.example.com',
    'https://{}.example.com', 'https://${a,b}.example.com', 'http://localhost:{3000..3002..2}', 'https://{a..c}c.example.org', 'https://[[:alpha:]]c.example.org',
    'https://evil.example/..', 'https://a/../evil.example', 'https://ſ.example.com', 'https://s.example.com', 'https://k.example.com', 'https:/*',
    'https://*.example.com,https://evil.example', 'https://\\*.example.com', 'https://a.example.c?m', 'https:\\/\\/*', 'https:/\\/*',
  ]) o(p);

  const filePaths = [
    '/srv/catalog/org.yaml', '/srv/catalog/users/alice.yaml', '/srv/catalog/.hidden/x.yaml', '/srv/catalog/.x.yaml', '/srv/catalog/a/b/c.yaml',
    '/srv/catalog/ORG.YAML', 'srv/catalog/org.yaml', '/srv/catalog/org.yml', '/srv/catalog/', '/srv/catalog', '/srv/catalog//org.yaml',
    '/srv/catalog/a/../org.yaml', '/srv/catalog/./org.yaml', '/srv/catalog/../catalog/org.yaml', '/other/org.yaml', 'https://github.com/o/r/blob/main/catalog-info.yaml',
    'https://github.com/o/r/blob/main/a/catalog-info.yaml', '/srv/catalog/a.b.yaml', '/srv/catalog/日本.yaml', '/srv/catalog/Straße.yaml', '/srv/catalog/STRASSE.yaml',
  ];
  for (const opts of ['rules', 'files', 'plain', 'dot']) {
    for (const p of [
      '/srv/catalog/*.yaml', '/srv/catalog/**/*.yaml', '/srv/catalog/**', '**/*.yaml', '**', '/srv/**/org.yaml', '/srv/catalog/**/x.yaml',
      '/srv/catalog/*/*.yaml', '/srv/catalog/*.{yaml,yml}', '/srv/catalog/org.yaml', '/srv/catalog/ORG.yaml', '/srv/catalog/.*', '/srv/catalog/*',
      '/srv/catalog/**/.*.yaml', '/srv/catalog/@(org|users)/**', '/srv/catalog/!(org).yaml', '/srv/catalog/+(a|b).yaml', 'https://github.com/o/r/blob/*/catalog-info.yaml',
      'https://github.com/o/r/**/catalog-info.yaml', '/srv\\catalog\\*.yaml', '/srv/catalog/\\*.yaml', '!/srv/catalog/*.yaml', '/srv/catalog/**/**/*.yaml',
      '/srv/catalog/a/../*.yaml', '/srv/catalog/**/../org.yaml', '/srv/catalog/[a-z]*.yaml', '/srv/catalog/[!o]*.yaml', '/srv/catalog/straße.yaml',
      '/srv/catalog/{a,b}/**', '**/users/**', '/srv/catalog/?.b.yaml', '/srv/catalog/*.', '/srv/catalog/**/', '/srv/catalog/*/',
    ]) mmCase(cases, opts, p, filePaths, 'paths');
  }
  // Errors Node raises.
  mmCase(cases, 'origin', 'a', ['a'], 'errors', 65537);
  mmCase(cases, 'origin', '+(a)', ['a'], 'errors', 257);
  mmCase(cases, 'origin', '+(a)', ['a', 'aa'], 'errors', 256);
  mmCase(cases, 'plain', '{a,b}', ['a', 'b'], 'errors', 14);
  mmCase(cases, 'plain', '{a,b}', ['a', 'b'], 'errors', 17);
}

function randomMinimatch(cases) {
  const atoms = [
    'a', 'b', 'A', 'B', '.', '-', ':', '0', '1', '8', 'x', 'é', 'É', 'ß', 'K', 'k', '\u212a', 'ſ', 's', 'S',
    '*', '*', '?', '**', '/', '/', '//', '[ab]', '[!a]', '[a-c]', '[^.]', '[]a]', '[a-]', '[\\]]', '[.]', '[A-Z]', '[z-a]', '[',
    ']', '{a,b}', '{x,}', '{,a}', '{1..3}', '{01..3}', '{a..c}', '{3..1}', '{1..120}', '{-2..1}', '{a,{b,c}}', '{a}', '{}', '{', '}',
    ',', '$', '+(a|b)', '@(a|b)', '*(a)', '?(b)', '!(a)', '!(a|b)', '+(a|', '(', ')', '|', '\\*', '\\?', '\\[', '\\', '\\\\', '\\{', '!', '#',
    '..', '.a', 'a.', '@()', '+()', '!()', '*(*)', '@(.a)', '{1..150}x', 'x{1..3}{a,b}', '[k]', '[K-k]',
  ];
  const pieces = [
    'a', 'b', 'A', 'B', '.', '-', ':', '0', '1', '2', '3', '01', '02', '8', 'x', 'é', 'É', 'ß', 'K', 'k', '\u212a', 'ſ', 's', 'S', '/', '/',
    '//', 'ab', 'aa', 'ba', '..', '.a', '*', '?', '[', ']', '{', '}', ',', '$', '(', ')', '|', '\\', '#', '!', '100', '119', '120', '150', '-1', '-2',
  ];
  const randPath = () => {
    let s = '';
    const n = int(7);
    for (let j = 0; j < n; j++) s += pick(pieces);
    return s;
  };
  // A path built from the pattern itself: each wildcard replaced by something it
  // may match, so that the vectors have plenty of matches as well as near misses.
  const instantiate = p => {
    let s = p
      .replace(/\*\*/g, () => pick(['', 'a', 'a/b', '.a', 'x/y/z']))
      .replace(/\*/g, () => pick(['', 'a', 'ab', '.', 'x.y', '-']))
      .replace(/\?/g, () => pick(['a', 'b', '.', 'x']))
      .replace(/\[!?\^?([^\]])[^\]]*\]/g, (_, c) => (rand() < 0.5 ? c : pick(['a', 'b', 'c', '.'])))
      .replace(/[+@*?!]\(([^|)]*)[^)]*\)/g, (_, c) => (rand() < 0.5 ? c : c + c));
    if (rand() < 0.3) s = s.replace(/[{},]/g, '');
    return s;
  };
  const optNames = ['origin', 'origin', 'rules', 'files', 'plain', 'dot'];
  for (let i = 0; i < 2600 * scale; i++) {
    let p = '';
    const n = 1 + int(6);
    for (let j = 0; j < n; j++) p += pick(atoms);
    if (rand() < 0.06) p = '!' + p;
    if (rand() < 0.02) p = '#' + p;
    const opts = pick(optNames);
    let expanded = [p];
    try {
      expanded = new Minimatch(p, optionSets[opts]).globSet.slice(0, 6);
    } catch {}
    const paths = [];
    for (let k = 0; k < 12; k++) paths.push(randPath());
    for (const e of expanded) for (let k = 0; k < 3; k++) paths.push(instantiate(e));
    paths.push(p);
    mmCase(cases, opts, p, paths, 'random');
  }
}

function minimatchVectors() {
  const cases = [];
  handMinimatch(cases);
  randomMinimatch(cases);
  // minimatch.escape(s, {magicalBraces: true}): a pattern matching s literally.
  const escapes = [];
  for (const s of ['http://127.0.0.1:7007', 'https://[::1]:3000', '#x', '!x', '!!x', 'a{b,c}d', 'a\\b', '*?()[]{}', '+(a)@(b)!(c)', '', 'ß\u2028']) {
    escapes.push({ in: s, out: require(minimatchPath).escape(s, { magicalBraces: true }) });
  }
  write('minimatch.json', header({ minimatch: minimatchVersion, braceExpansion: version('brace-expansion'), optionSets, escapes, cases }));
}

// ---------------------------------------------------------------- frame page
function framePageVectors() {
  const pages = [];
  const add = (name, message, origin, extra) => {
    const res = {
      headers: {},
      setHeader(k, v) {
        this.headers[k.toLowerCase()] = v;
      },
      end(body) {
        this.body = body;
      },
    };
    sendWebMessageResponse(res, origin, message);
    pages.push({ name, origin, message, ...extra, csp: res.headers['content-security-policy'], contentType: res.headers['content-type'], body: b64(Buffer.from(res.body, 'utf8')) });
  };
  const response = displayName => ({
    type: 'authorization_response',
    response: {
      profile: { email: 'alice@example.com', displayName },
      providerInfo: { idToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln', accessToken: 'at-123', scope: 'openid profile email', expiresInSeconds: 3600 },
      backstageIdentity: {
        token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UifQ.c2ln',
        identity: { type: 'user', userEntityRef: 'user:default/alice', ownershipEntityRefs: ['user:default/alice', 'group:default/team-a'] },
        expiresInSeconds: 3600,
      },
    },
  });
  add('plain', response('Alice Example'), 'http://127.0.0.1:3000');
  add('line and paragraph separators', response('Alice\u2028Example\u2029!'), 'https://app.example.com');
  add('html and quotes', response(`</script><script>alert('x')</script> "q" \\`), 'https://app.example.com');
  add('non-ASCII', response('Jöhn 日本 😀 \ufffd'), 'https://app.example.com:8443');
  add('controls', response('a\u0000b\u001f\u007f\nc'), 'https://app.example.com');
  add('error', { type: 'authorization_response', error: { name: 'NotAllowedError', message: 'Login failed\u2028; caused by Error: x' } }, 'http://127.0.0.1:3000');
  // A display name that is not valid UTF-8 in Go: Node sees what its decoder makes of it.
  const bad = Buffer.from('416c69ffe28063', 'hex');
  add('invalid UTF-8', response(bad.toString('utf8')), 'https://app.example.com', { displayNameBytes: b64(bad) });
  write('frame-page.json', header({ pluginAuthNode: version('@backstage/plugin-auth-node'), pages }));
}

jsonVectors();
entityRefVectors();
lowerCaseVectors();
minimatchVectors();
framePageVectors();
