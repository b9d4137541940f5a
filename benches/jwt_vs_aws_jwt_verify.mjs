// JWT verification per core, warm JWKS cache: lambdakit-auth against aws-jwt-verify.
//
// Run with `cargo xtask bench`, or by hand from the workspace root:
//
//     npm ci --prefix benches/node
//     cargo build --release -p lambdakit-benches --bin jwt-verify
//     node benches/jwt_vs_aws_jwt_verify.mjs target/release/jwt-verify [--seconds 1] [--rounds 5] [--tokens 1000]
//
// `--keep DIR` writes the keys and tokens to DIR and leaves them there (to run
// `target/release/jwt-verify DIR SECONDS` alone, under a profiler).
//
// Both sides verify the same tokens, with the same checks, single-threaded:
//
// - The script makes an RSA-2048 key (RS256) and a P-256 key (ES256) with Node's crypto, and
//   writes the user pool's JWKS (both keys, as Cognito publishes them: kid, alg, use "sig").
// - It signs `--tokens` distinct Cognito access tokens per algorithm (the claims of a real
//   Cognito access token: sub, cognito:groups, iss, version, client_id, origin_jti, event_id,
//   token_use, scope, auth_time, exp, iat, jti, username; each with its own sub and jti),
//   valid for an hour.
// - lambdakit-auth: `target/release/jwt-verify DIR SECONDS`, a
//   `CognitoUserPool::access_tokens(pool, client)` verifier with the JWKS put in its cache by
//   `cache_jwks`, `verify(token).await` in a loop on a current-thread tokio runtime.
// - aws-jwt-verify (the version pinned in benches/node/package-lock.json), in this process:
//   `CognitoJwtVerifier.create({userPoolId, tokenUse: "access", clientId})` with the JWKS put
//   in its cache by `cacheJwks`, `await verifier.verify(token)` in a loop, and `verifySync`
//   too. The ratio uses the faster of the two.
// - Each side verifies every token once untimed (all must pass), then loops over them for at
//   least `--seconds`, `--rounds` times, and keeps its fastest round: on a shared machine other
//   work only slows a round down. No network is used by either side.
// - As floors, each side also checks the same signatures alone, the tokens split and decoded
//   before the clock starts: aws-lc-rs's `ParsedPublicKey::verify_sig` (what lambdakit-auth
//   calls) and Node's one-shot `crypto.verify` with a cached KeyObject (the fastest signature
//   check Node offers; aws-jwt-verify uses the slower `createVerify().update().verify()`).
//   The floors say how much of each side's time is the signature, and so the best ratio any
//   verifier on top of aws-lc-rs could reach: the "ceiling ratio" is aws-lc-rs's signature-only
//   rate over aws-jwt-verify's full rate.
//
// "Per core": both loops run on one thread. The rates are tokens per second of wall-clock
// time and per second of the process's CPU time (user + system, all threads: V8's garbage
// collector runs on helper threads, so Node can use more than one core for one loop).

import { execFileSync } from "node:child_process";
import { generateKeyPairSync, createPublicKey, createSign, randomUUID, verify as cryptoVerify } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir, cpus, release } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "node", "package.json"));

function usage(message) {
  if (message) console.error(message);
  console.error(
    "usage: node benches/jwt_vs_aws_jwt_verify.mjs target/release/jwt-verify [--seconds S] [--rounds R] [--tokens N] [--keep DIR]",
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const rustBin = args[0];
if (!rustBin || rustBin.startsWith("--")) usage();
let seconds = 1;
let rounds = 5;
let tokenCount = 1000;
let keepDir = null;
for (let i = 1; i < args.length; i += 2) {
  if (args[i] === "--keep") {
    if (!args[i + 1]) usage("--keep needs a folder");
    keepDir = args[i + 1];
    continue;
  }
  const value = Number(args[i + 1]);
  if (!(value > 0)) usage(`${args[i]} needs a positive number`);
  if (args[i] === "--seconds") seconds = value;
  else if (args[i] === "--rounds") rounds = Math.floor(value);
  else if (args[i] === "--tokens") tokenCount = Math.floor(value);
  else usage(`unknown option ${args[i]}`);
}

let awsJwtVerify;
try {
  awsJwtVerify = await import(require.resolve("aws-jwt-verify"));
} catch (e) {
  usage(`aws-jwt-verify is not installed (run: npm ci --prefix benches/node): ${e.message}`);
}
const { CognitoJwtVerifier } = awsJwtVerify;
const awsJwtVerifyVersion = JSON.parse(
  readFileSync(join(here, "node", "node_modules", "aws-jwt-verify", "package.json"), "utf8"),
).version;

// A user pool, its issuer and an app client, as Cognito names them.
const userPoolId = "eu-west-1_Bench1234";
const clientId = "3n4b5urk1ft4fl3mg5e62d9ado";
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${userPoolId}`;

const b64url = (data) => Buffer.from(data).toString("base64url");

function makeKey(alg) {
  const { publicKey, privateKey } =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = b64url(randomUUID());
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" };
  return { alg, kid, privateKey, jwk };
}

function sign(key, claims) {
  const header = b64url(JSON.stringify({ kid: key.kid, alg: key.alg }));
  const payload = b64url(JSON.stringify(claims));
  const input = `${header}.${payload}`;
  const signature = createSign("SHA256")
    .update(input)
    .sign({ key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(signature)}`;
}

function accessClaims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: randomUUID(),
    "cognito:groups": ["staff"],
    iss: issuer,
    version: 2,
    client_id: clientId,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: "access",
    scope: "aws.cognito.signin.user.admin orders/read",
    auth_time: now,
    exp: now + 3600,
    iat: now,
    jti: randomUUID(),
    username: "jane",
  };
}

const keys = [makeKey("RS256"), makeKey("ES256")];
const jwks = { keys: keys.map((k) => k.jwk) };
const tokens = {};
for (const key of keys) {
  tokens[key.alg] = Array.from({ length: tokenCount }, () => sign(key, accessClaims()));
}

const dir = keepDir ?? mkdtempSync(join(tmpdir(), "jwt-bench-"));
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "config.json"), JSON.stringify({ userPoolId, clientId, issuer }));
writeFileSync(join(dir, "jwks.json"), JSON.stringify(jwks));
for (const [alg, list] of Object.entries(tokens)) {
  writeFileSync(join(dir, `tokens-${alg}.txt`), list.join("\n") + "\n");
}

// lambdakit-auth, in its own process.
let rust;
try {
  const out = execFileSync(rustBin, [dir, String(seconds), String(rounds)], { encoding: "utf8" });
  rust = Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .map((r) => [r.alg, r]),
  );
} finally {
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
}

// aws-jwt-verify, in this process.
const verifier = CognitoJwtVerifier.create({ userPoolId, tokenUse: "access", clientId });
verifier.cacheJwks(jwks);

async function timeLoop(list, verifyOne) {
  for (const item of list) await verifyOne(item);
  const target = BigInt(Math.round(seconds * 1e9));
  let best = null;
  let i = 0;
  for (let round = 0; round < rounds; round++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    let n = 0;
    while (process.hrtime.bigint() - start < target) {
      for (let b = 0; b < 64; b++) {
        await verifyOne(list[i]);
        i = (i + 1) % list.length;
      }
      n += 64;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const result = { n, elapsed_s: elapsed, cpu_s: cpuSeconds, per_second: n / elapsed, per_cpu_second: n / cpuSeconds };
    if (!best || result.per_cpu_second > best.per_cpu_second) best = result;
  }
  return best;
}

const node = {};
for (const alg of ["RS256", "ES256"]) {
  const keyObject = createPublicKey({ key: keys.find((k) => k.alg === alg).jwk, format: "jwk" });
  const split = tokens[alg].map((t) => {
    const dot = t.lastIndexOf(".");
    return { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), "base64url") };
  });
  const checkSignature = async ({ input, sig }) => {
    if (!cryptoVerify("sha256", input, { key: keyObject, dsaEncoding: "ieee-p1363" }, sig)) {
      throw new Error(`an ${alg} signature does not verify`);
    }
  };
  node[alg] = {
    verify: await timeLoop(tokens[alg], (t) => verifier.verify(t)),
    verifySync: await timeLoop(tokens[alg], async (t) => verifier.verifySync(t)),
    signature_only: await timeLoop(split, checkSignature),
  };
}

const fmt = (x) => Math.round(x).toLocaleString("en-US");
const rows = [];
for (const alg of ["RS256", "ES256"]) {
  const ours = rust[alg];
  const peer = [node[alg].verify, node[alg].verifySync].reduce((a, b) =>
    b.per_cpu_second > a.per_cpu_second ? b : a,
  );
  rows.push({
    alg,
    ours,
    node: node[alg],
    ratio_cpu: ours.per_cpu_second / peer.per_cpu_second,
    ratio_wall: ours.per_second / Math.max(node[alg].verify.per_second, node[alg].verifySync.per_second),
    ceiling_cpu: ours.signature_only.per_cpu_second / peer.per_cpu_second,
  });
}

const cpuModel = cpus()[0]?.model ?? "unknown CPU";
console.log(
  `JWT verification, warm JWKS cache, one thread each; ${tokenCount} distinct Cognito access tokens per alg; ` +
    `best of ${rounds} rounds of >= ${seconds} s\n` +
    `${cpuModel}, ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}, aws-jwt-verify ${awsJwtVerifyVersion}\n` +
    "Tokens per CPU-second (per wall-clock second in parentheses).\n",
);
console.log(
  "| alg | lambdakit-auth `verify` | aws-jwt-verify `verify` | aws-jwt-verify `verifySync` | ratio per core | " +
    "signature alone: aws-lc-rs | signature alone: Node `crypto.verify` | ceiling ratio |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
const cell = (r) => `${fmt(r.per_cpu_second)} (${fmt(r.per_second)})`;
for (const r of rows) {
  console.log(
    `| ${r.alg} | ${cell(r.ours)} | ${cell(r.node.verify)} | ${cell(r.node.verifySync)} | ` +
      `**${r.ratio_cpu.toFixed(2)}x** (${r.ratio_wall.toFixed(2)}x) | ${cell(r.ours.signature_only)} | ` +
      `${cell(r.node.signature_only)} | ${r.ceiling_cpu.toFixed(2)}x |`,
  );
}
console.log(
  "\n" +
    JSON.stringify({
      seconds,
      rounds,
      tokens: tokenCount,
      aws_jwt_verify: awsJwtVerifyVersion,
      node: process.version,
      results: rows,
    }),
);
const goal = 3;
const missed = rows.filter((r) => r.ratio_cpu < goal);
if (missed.length > 0) {
  console.log(`\ngoal (>= ${goal}x per core) missed for ${missed.map((r) => r.alg).join(", ")}`);
}
