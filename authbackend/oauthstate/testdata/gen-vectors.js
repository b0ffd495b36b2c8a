// Regenerates node-vectors.json with Node (node testdata/gen-vectors.js > testdata/node-vectors.json).
// It runs the same expressions as Backstage's encodeOAuthState/decodeOAuthState.
function decode(enc){
  const state = Object.fromEntries(new URLSearchParams(Buffer.from(enc,'hex').toString('utf-8')));
  if (!state.env) return {err:'OAuth state is invalid, missing env'};
  if (!state.nonce) return {err:'OAuth state is invalid, missing nonce'};
  const o={}; for (const k of ['nonce','env','origin','redirectUrl','flow','scope']) o[k]=state[k]??'';
  return o;
}
function encode(o){ const x={}; for (const k of ['nonce','env','origin','redirectUrl','flow','scope']) if (o[k]) x[k]=o[k]; return Buffer.from(new URLSearchParams(x).toString(),'utf-8').toString('hex'); }
const h = s => Buffer.from(s,'latin1').toString('hex');
const inputs = [
 ['odd length', h('nonce=a&env=dev')+'6'],
 ['invalid hex mid-way', h('nonce=a&env=dev')+'zz'+h('&env=prod')],
 ['uppercase hex', h('nonce=a&env=dev').toUpperCase()],
 ['duplicate keys last wins', h('nonce=a&env=dev&env=prod&nonce=b')],
 ['plus and %20', h('nonce=a+b%20c&env=d+e&scope=openid+profile%20email')],
 ['leading question mark', h('?nonce=a&env=dev')],
 ['empty env', h('nonce=a&env=')],
 ['missing nonce', h('env=dev')],
 ['empty', ''],
 ['garbage zzzz', 'zzzz'],
 ['malformed percent', h('nonce=%zz%4&env=%')],
 ['invalid utf8 raw', h('nonce=\xe2\x82&env=\xff\xfeok\xf0\x9f\x98')],
 ['invalid utf8 percent', h('nonce=%E2%82%41&env=%ED%A0%80x%C0%AF')],
 ['key without value', h('nonce&env=dev&nonce=n')],
 ['equals in value', h('nonce=a=b==&env=dev')],
 ['unknown keys ignored', h('audience=x&nonce=a&env=dev&flow=popup')],
 ['encoded keys', h('%6eonce=a&e%6Ev=dev')],
 ['empty pairs', h('&&nonce=a&&env=dev&')],
];
const out = inputs.map(([name,hex])=>({name,hex,want:decode(hex)}));
const enc = [
 {nonce:'q2QFdHWlbRZAwGgTLdBA3A==',env:'development',origin:'http://127.0.0.1:17007'},
 {nonce:'a b+c/d?e&f=g',env:'dév',origin:'https://app.example.com',redirectUrl:'https://app.example.com/x?y=1#z',flow:'redirect',scope:"openid profile email offline_access *-._~!'()"},
 {nonce:'n',env:'e',scope:'\u2028 \ud83d\ude00 <>"'},
].map(s=>({s,want:encode(s)}));
console.log(JSON.stringify({decode:out,encode:enc},null,1));
