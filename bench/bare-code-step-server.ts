/**
 * The code step with nothing but node:http and postgres.js: what this
 * machine can do for the same work, to show the distance between the app and
 * the hardware. Same request as the app's (challenge cookie + the captured
 * JSON body), same database and same effects:
 *   challenge + user + credential lookup (one SELECT), AES-256-GCM decrypt of
 *   the TOTP secret, HMAC-SHA-1 at T and T−1, then one statement that deletes
 *   the challenge, advances last_used_step by compare-and-set, resets the
 *   failure counter and appends the audit event (atomic: a single statement),
 *   and a session cookie sealed as Auth.js does (JWE dir + A256CBC-HS512).
 * It imports nothing from the app. Env: DATABASE_URL, AUTH_SECRET, TOTP_ENCRYPTION_KEY, PORT.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import postgres from "postgres";
import { base32Decode, hotp, timeStep } from "./lib/totp";

const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DATABASE_POOL_MAX || 10), onnotice: () => {} });
const totpKey = Buffer.from(process.env.TOTP_ENCRYPTION_KEY!, "base64");
const totpKeyId = createHash("sha256").update(totpKey).digest("hex").slice(0, 8);
const SESSION_COOKIE = "authjs.session-token";
// Auth.js derives its JWE key with HKDF(secret, salt = cookie name); so do we (64 bytes for A256CBC-HS512).
const sessionKey = Buffer.from(hkdfSync("sha256", process.env.AUTH_SECRET!, SESSION_COOKIE, `Auth.js Generated Encryption Key (${SESSION_COOKIE})`, 64));
const SESSION_SECONDS = 12 * 60 * 60;

function decryptSecret(stored: string, userId: string): string {
  const [version, id, iv, bodyPart] = stored.split(".");
  if (version !== "v1" || id !== totpKeyId) throw new Error("unknown key");
  const body = Buffer.from(bodyPart, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", totpKey, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(userId));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString("base64url");
const JWE_HEADER = b64(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512" }));

/** RFC 7516 compact JWE, dir + A256CBC-HS512 (RFC 7518 §5.2), as Auth.js seals its session cookie. */
function sealSession(claims: Record<string, unknown>): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", sessionKey.subarray(32), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(claims)), cipher.final()]);
  const aad = Buffer.from(JWE_HEADER);
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length * 8));
  const tag = createHmac("sha512", sessionKey.subarray(0, 32)).update(Buffer.concat([aad, iv, ciphertext, al])).digest().subarray(0, 32);
  return `${JWE_HEADER}..${b64(iv)}.${b64(ciphertext)}.${b64(tag)}`;
}

function field(body: string, name: string): string {
  try {
    const value = (JSON.parse(body) as Record<string, unknown>)[name];
    return typeof value === "string" ? value : "";
  } catch {
    return "";
  }
}

function cookie(header: string | undefined, name: string): string {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return "";
}

const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

type Row = { user_id: string; name: string; email: string; role: string; session_version: number; locked_until: Date | null; secret_ciphertext: string | null; enabled_at: Date | null; last_used_step: string | null; two_factor_enabled: boolean };

async function codeStep(request: http.IncomingMessage, body: string): Promise<{ ok: boolean; setCookie: string[] }> {
  const token = cookie(request.headers.cookie, "signin-challenge");
  const code = field(body, "code");
  if (!token || token.length > 100 || !/^\d{6}$/.test(code)) return { ok: false, setCookie: [] };
  const tokenHash = createHash("sha256").update(token).digest("hex");
  const [row] = await sql<Row[]>`
    select u.id as user_id, u.name, u.email, u.role, u.session_version, u.second_factor_locked_until as locked_until,
           c.secret_ciphertext, c.enabled_at, c.last_used_step, s.two_factor_enabled
    from sign_in_challenges ch
    join users u on u.id = ch.user_id
    left join totp_credentials c on c.user_id = u.id
    cross join instance_settings s
    where ch.token_hash = ${tokenHash} and ch.expires_at > now() and ch.purpose = 'sign_in' and s.id = 1`;
  if (!row || !row.enabled_at || !row.secret_ciphertext || !row.two_factor_enabled) return { ok: false, setCookie: [] };
  if (row.locked_until && row.locked_until > new Date()) return { ok: false, setCookie: [] };
  const key = base32Decode(decryptSecret(row.secret_ciphertext, row.user_id));
  const now = timeStep();
  const step = [now, now - 1].find((t) => safeEqual(hotp(key, t), code));
  const ip = request.socket.remoteAddress ?? null;
  const userAgent = request.headers["user-agent"]?.slice(0, 512) ?? null;
  if (step === undefined || (row.last_used_step !== null && Number(row.last_used_step) >= step)) {
    await sql`
      with f as (update users set second_factor_failures = second_factor_failures + 1 where id = ${row.user_id} returning id)
      insert into audit_events (event, target_user_id, ip, user_agent) select 'sign_in.code_failed', id, ${ip}, ${userAgent} from f`;
    return { ok: false, setCookie: [] };
  }
  const [done] = await sql<{ id: string }[]>`
    with ch as (
      delete from sign_in_challenges where token_hash = ${tokenHash} and expires_at > now() returning user_id
    ), cas as (
      update totp_credentials set last_used_step = ${step}
      where user_id = (select user_id from ch) and (last_used_step is null or last_used_step < ${step}) returning user_id
    ), reset as (
      update users set second_factor_failures = 0, second_factor_lockouts = 0, second_factor_locked_until = null
      where id = (select user_id from cas) and (second_factor_locked_until is null or second_factor_locked_until <= now()) returning id
    )
    insert into audit_events (event, actor_user_id, target_user_id, ip, user_agent, details)
    select 'sign_in.succeeded', id, id, ${ip}, ${userAgent}, ${sql.json({ factor: "totp" })} from reset returning target_user_id as id`;
  if (!done) return { ok: false, setCookie: [] };
  const iat = Math.floor(Date.now() / 1000);
  const jwt = sealSession({ sub: row.user_id, sid: randomUUID(), sv: row.session_version, authTime: iat, iat, exp: iat + SESSION_SECONDS, jti: randomUUID() });
  return {
    ok: true,
    setCookie: [
      "signin-challenge=; Path=/login; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      `${SESSION_COOKIE}=${jwt}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Lax`,
    ],
  };
}

const server = http.createServer((request, response) => {
  if (request.method !== "POST" || !request.url?.startsWith("/login")) {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    codeStep(request, Buffer.concat(chunks).toString("utf8")).then(
      ({ ok, setCookie }) => {
        // As the app answers: JSON, the session cookie on success.
        const headers = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
        response.writeHead(200, ok ? { ...headers, "set-cookie": setCookie } : headers);
        response.end(ok ? '{"status":"signed-in","to":"/"}' : '{"status":"error"}');
      },
      (error: unknown) => {
        console.error(error);
        response.writeHead(500).end();
      },
    );
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`bare code step listening on ${process.env.PORT}, pid ${process.pid}`));
const stop = () => server.close(() => void sql.end({ timeout: 5 }).then(() => process.exit(0)));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
