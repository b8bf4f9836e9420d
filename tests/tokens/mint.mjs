// Mints auth test vectors for tests/auth_vectors.rs with the REAL libraries:
//   next-auth@4.24.15  `next-auth/jwt` encode + its own cookie chunker (SessionStore)
//   @auth/core@0.41.3  `@auth/core/jwt` encode + its own cookie chunker (SessionStore)
//   jsonwebtoken@9     sign (bearer JWTs), node:crypto for RSA/EC key pairs
//   jose@4 (the copy next-auth itself uses) for the "other enc / zip / crit" variants
//
// Input (stdin): a JSON array of specs. Output (stdout): a JSON array of results, same order.
// Spec kinds:
//   {"kind":"keypair","type":"rsa"|"ec","kid":"k1"}
//       -> {"privatePem","publicPem","jwk"}            (jwk carries kid, alg, use)
//   {"kind":"nextauth_v4","secret","claims",{"maxAge"},"cookieName"?,"pad"?}
//       -> {"token","cookies":[{"name","value"}]}      (cookies from next-auth's SessionStore)
//   {"kind":"nextauth_v4_variant","secret","claims","enc"?,"zip"?,"crit"?,"maxAge"?}
//       -> {"token"}  same key derivation as next-auth, but another enc / zip / crit header
//   {"kind":"authjs_v5","secret","salt","claims","maxAge"?,"pad"?}
//       -> {"token","cookies"}                          (salt is the cookie name)
//   {"kind":"jwt","payload","key","options"}
//       -> {"token"}  jsonwebtoken.sign(payload, key, options); key null for alg none
// "pad": N adds a claim `pad` of N characters so the cookie gets chunked.
import { createRequire } from "node:module";
import { generateKeyPairSync } from "node:crypto";
import { encode as encodeV4 } from "next-auth/jwt";
import { encode as encodeV5 } from "@auth/core/jwt";
import { SessionStore as SessionStoreV5 } from "./node_modules/@auth/core/lib/utils/cookie.js";
import jwt from "jsonwebtoken";

const require = createRequire(import.meta.url);
// Not in next-auth's package "exports": reach the files by path.
const { SessionStore: SessionStoreV4 } = require("./node_modules/next-auth/core/lib/cookie.js");
const joseV4 = require("./node_modules/next-auth/node_modules/jose");
const hkdf = require("./node_modules/@panva/hkdf").default ?? require("./node_modules/@panva/hkdf");

const quietLogger = { debug() {}, error() {}, warn() {} };

function withPad(claims, pad) {
  return pad ? { ...claims, pad: "p".repeat(pad) } : claims;
}

function chunk(Store, name, value) {
  const store = new Store({ name, options: {} }, { cookies: {}, headers: {} }, quietLogger);
  return store.chunk(value, {}).map((c) => ({ name: c.name, value: c.value }));
}

async function mint(spec) {
  switch (spec.kind) {
    case "keypair": {
      const pair =
        spec.type === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "P-256" })
          : generateKeyPairSync("rsa", { modulusLength: 2048 });
      const jwk = pair.publicKey.export({ format: "jwk" });
      jwk.kid = spec.kid ?? "k1";
      jwk.alg = spec.type === "ec" ? "ES256" : "RS256";
      jwk.use = "sig";
      return {
        privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }),
        publicPem: pair.publicKey.export({ type: "spki", format: "pem" }),
        jwk,
      };
    }
    case "nextauth_v4": {
      const token = await encodeV4({
        token: withPad(spec.claims, spec.pad),
        secret: spec.secret,
        maxAge: spec.maxAge,
      });
      const name = spec.cookieName ?? "next-auth.session-token";
      return { token, cookies: chunk(SessionStoreV4, name, token) };
    }
    case "nextauth_v4_variant": {
      const key = await hkdf("sha256", spec.secret, "", "NextAuth.js Generated Encryption Key", 32);
      const header = { alg: "dir", enc: spec.enc ?? "A256GCM" };
      if (spec.zip) header.zip = spec.zip;
      const options = {};
      if (spec.crit) {
        header.crit = ["x-cutover-test"];
        header["x-cutover-test"] = true;
        options.crit = { "x-cutover-test": true }; // jose refuses an unknown crit otherwise
      }
      const token = await new joseV4.EncryptJWT(spec.claims)
        .setProtectedHeader(header)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (spec.maxAge ?? 3600))
        .encrypt(key, options);
      return { token };
    }
    case "authjs_v5": {
      const token = await encodeV5({
        token: withPad(spec.claims, spec.pad),
        secret: spec.secret,
        salt: spec.salt,
        maxAge: spec.maxAge,
      });
      return { token, cookies: chunk(SessionStoreV5, spec.salt, token) };
    }
    case "jwt":
      return { token: jwt.sign(spec.payload, spec.key ?? null, spec.options ?? {}) };
    default:
      throw new Error(`unknown kind ${spec.kind}`);
  }
}

let input = "";
for await (const part of process.stdin) input += part;
const specs = JSON.parse(input);
const out = [];
for (const spec of specs) out.push(await mint(spec));
process.stdout.write(JSON.stringify(out));
