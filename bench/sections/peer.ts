import postgres, { type Sql } from "postgres";
import { request } from "undici";
import type { SignInTemplates } from "../lib/actions";
import { setCookieValue } from "../lib/actions";
import { BENCH_PASSWORD, PORTS } from "../lib/config";
import { createPgDatabase, type PgDatabase } from "../lib/database";
import { median, runLoad, type BenchRequest, type LoadResult } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import {
  ensurePeerBuilt,
  freshPeerChallenges,
  peerVersions,
  PEER_COOKIES,
  seedPeerUsers,
  signPeerCookie,
  startPeer,
  type PeerChallenge,
  type PeerServer,
  type PeerUser,
} from "../lib/peer-server";
import { hotp, timeStep } from "../lib/totp";
import { assertHealthy, codeStepLoad, freshChallenges, passwordStepLoad, type ChallengeCursor, type Pool } from "./sign-in";

const SIGN_IN = "/api/auth/sign-in/email";
const VERIFY_TOTP = "/api/auth/two-factor/verify-totp";
/** How long freshChallenges' rows live (5 minutes, as lib/auth/challenge.ts); the peer's live 10 (peer-server.ts). */
const OWN_CHALLENGE_SECONDS = 300;

/** What a browser's Better Auth client sends: JSON, from the peer's own origin (its origin check). */
function peerPost(peer: PeerServer, path: string, body: unknown, userAgent: string, cookie?: string): BenchRequest {
  const headers: Record<string, string> = { "content-type": "application/json", origin: peer.origin, "user-agent": userAgent };
  if (cookie) headers.cookie = cookie;
  return { method: "POST", path, headers, body: JSON.stringify(body) };
}

const signedIn = (headers: Parameters<typeof setCookieValue>[0]) => setCookieValue(headers, PEER_COOKIES.session) !== null;

/**
 * 6. The app against a peer: Better Auth 1.7.25 (bench/peer: Next.js 16, email + password, the
 * two-factor plugin, PostgreSQL, our argon2id through its hash hooks, rate limit off), driven by
 * the same load generator at the same concurrency. Each round measures both apps side by side,
 * in pairs of adjacent windows: no-op route (ours, its), code step (ours, its verify-totp, each
 * request a fresh challenge and a valid code), password step (ours, its sign-in/email for a user
 * with 2FA); the figures are medians of the per-round ratios.
 */
export async function peerComparison(
  origin: string,
  templates: SignInTemplates,
  pool: Pool,
  sql: Sql,
  passwordHash: string,
  options: RunOptions,
): Promise<SectionResult> {
  ensurePeerBuilt(options.log);
  const userAgent = templates.code.headers["user-agent"] ?? "bench";
  let pg: PgDatabase | null = null;
  let peer: PeerServer | null = null;
  let peerSql: Sql | null = null;
  try {
    pg = await createPgDatabase("peer");
    peer = await startPeer(PORTS.peer, pg.url);
    peerSql = postgres(pg.url, { max: 2, onnotice: () => {} });
    const count = pool.users.length;
    const seedStarted = performance.now();
    // One more than the pool: the probe user of the faithfulness check, whose code it uses three times.
    const users = await seedPeerUsers(peerSql, count + 1, passwordHash);
    options.log(`peer: seeded ${users.length} Better Auth users with 2FA in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    const check = await checkChallenges(peer, peerSql, users[count], userAgent);
    options.log(`peer: a prepared challenge matches a real sign-in's; a replayed code was ${check.replayAccepted ? "accepted" : "refused"}`);
    const peerUsers = users.slice(0, count);

    const ownCursor: ChallengeCursor = { challenges: await freshChallenges(sql, pool), next: 0 };
    const ownPasswordCursor = { next: 0 };
    let peerCursor = { challenges: await freshPeerChallenges(peerSql, peerUsers), next: 0, preparedAt: Date.now() };
    let peerSignIn = 0;
    type Round = { ownNoop: LoadResult; peerNoop: LoadResult; ownCode: LoadResult; peerCode: LoadResult; ownPassword: LoadResult; peerPassword: LoadResult };
    const rounds: Round[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Ours live 5 minutes, its 10: prepare both anew (between windows) before ours could expire mid-round.
      const roundMs = 6 * (options.seconds + options.warmupSeconds) * 1000;
      if (Date.now() - peerCursor.preparedAt + roundMs > OWN_CHALLENGE_SECONDS * 1000 * 0.8) {
        peerCursor = { challenges: await freshPeerChallenges(peerSql, peerUsers), next: 0, preparedAt: Date.now() };
        ownCursor.challenges = await freshChallenges(sql, pool);
        ownCursor.next = 0;
      }
      const warmup = round === 0;
      const window = { connections: options.connections, seconds: options.seconds, warmupSeconds: warmup ? options.warmupSeconds : 0 };
      options.log(`peer: round ${round + 1}/${options.rounds}: no-op routes, code steps, password steps (ours, then Better Auth's)`);
      const ownNoop = await runLoad({ ...window, origin, next: () => ({ method: "GET", path: "/api/health/live" }), ok: (status) => status === 204 });
      const peerNoop = await runLoad({ ...window, origin: peer.origin, next: () => ({ method: "GET", path: "/api/noop" }), ok: (status) => status === 204 });
      const ownCode = await codeStepLoad(origin, templates, pool, ownCursor, options, warmup);
      const peerCode = await runLoad({
        ...window,
        origin: peer.origin,
        next: () => {
          const challenge: PeerChallenge | undefined = peerCursor.challenges[peerCursor.next++];
          if (!challenge) return null;
          const code = hotp(peerUsers[challenge.user].key, timeStep());
          return peerPost(peer!, VERIFY_TOTP, { code }, userAgent, `${PEER_COOKIES.twoFactor}=${challenge.cookie}`);
        },
        ok: (status, headers) => status === 200 && signedIn(headers["set-cookie"]),
      });
      const ownPassword = await passwordStepLoad(origin, templates, pool, ownPasswordCursor, options, warmup);
      const peerPassword = await runLoad({
        ...window,
        origin: peer.origin,
        next: () => peerPost(peer!, SIGN_IN, { email: peerUsers[peerSignIn++ % peerUsers.length].email, password: BENCH_PASSWORD }, userAgent),
        // A user with 2FA: no session yet, the two-factor cookie set (the JSON says twoFactorRedirect).
        ok: (status, headers) => status === 200 && setCookieValue(headers["set-cookie"], PEER_COOKIES.twoFactor) !== null,
      });
      assertHealthy("no-op route", ownNoop);
      assertHealthy("peer no-op route", peerNoop);
      assertHealthy("code step", ownCode);
      assertHealthy("peer verify-totp", peerCode);
      assertHealthy("password step", ownPassword);
      assertHealthy("peer sign-in/email", peerPassword);
      rounds.push({ ownNoop, peerNoop, ownCode, peerCode, ownPassword, peerPassword });
    }

    // What the peer logged while it was measured (Better Auth logs a WARN per failed sign-in, for one).
    const peerWarnings = peer.log().split("\n").filter((line) => /\b(WARN|ERROR)\b|Error/.test(line));
    if (peerWarnings.length) options.log(`peer: its server logged ${peerWarnings.length} warning/error lines, the first: ${peerWarnings[0]}`);
    const ratio = (a: keyof Round, b: keyof Round) => rounds.map((r) => r[a].rps / r[b].rps);
    const rps = (key: keyof Round) => median(rounds.map((r) => r[key].rps));
    const list = (values: number[], digits = 2) => values.map((v) => v.toFixed(digits)).join(", ");
    const each = (key: keyof Round) => rounds.map((r) => r[key].rps.toFixed(0)).join("/");
    const codeVsPeer = ratio("ownCode", "peerCode");
    const passwordVsPeer = ratio("ownPassword", "peerPassword");
    const exhausted = rounds.some((r) => r.ownCode.exhausted || r.peerCode.exhausted) ? " (a challenge pool ran out: window cut short)" : "";
    const caveat =
      `Not like for like: the peer accepts a replayed code (${check.replayAccepted ? "checked this run: one code signed in three times" : "NOT confirmed this run"}), ` +
      "and the app's code step writes what the peer's does not, the replay guard (last used time step) and an audit event; " +
      "the peer's verify-totp writes its own instead (two transactions consume the challenge and its attempt counter, then it resets the failure counter and inserts a session row: 11 statements to our 2).";
    return {
      figures: [
        {
          section: 6,
          key: "codeStepVsPeer",
          label: "6. Code step ÷ Better Auth verify-totp",
          value: median(codeVsPeer),
          unit: "×",
          target: { op: ">=", value: 3 },
          note: `median of ${rounds.length} rounds: ${list(codeVsPeer)}; code step ${each("ownCode")} req/s, Better Auth verify-totp ${each("peerCode")} req/s${exhausted}. ${caveat}`,
        },
        {
          section: 6,
          key: "passwordStepVsPeer",
          label: "   Password step ÷ Better Auth sign-in/email (2FA users)",
          value: median(passwordVsPeer),
          unit: "×",
          note: `median of ${rounds.length} rounds: ${list(passwordVsPeer)}; password step ${each("ownPassword")} req/s, Better Auth sign-in ${each("peerPassword")} req/s (both argon2id m=19 MiB, t=2, p=1)`,
        },
        { section: 6, key: "peerCodeStepRatio", label: "   Better Auth verify-totp ÷ its no-op route", value: median(ratio("peerCode", "peerNoop")), unit: "×", note: `per round ${list(ratio("peerCode", "peerNoop"), 3)}` },
        { section: 6, key: "peerPasswordStepRatio", label: "   Better Auth sign-in ÷ its no-op route", value: median(ratio("peerPassword", "peerNoop")), unit: "×" },
        { section: 6, key: "ownCodeStepRatio", label: "   code step ÷ our no-op route (same rounds)", value: median(ratio("ownCode", "ownNoop")), unit: "×" },
        { section: 6, key: "ownPasswordStepRatio", label: "   password step ÷ our no-op route (same rounds)", value: median(ratio("ownPassword", "ownNoop")), unit: "×" },
        { section: 6, key: "peerVerifyTotpRps", label: "   Better Auth verify-totp", value: rps("peerCode"), unit: "req/s" },
        { section: 6, key: "peerSignInRps", label: "   Better Auth sign-in/email", value: rps("peerPassword"), unit: "req/s" },
        { section: 6, key: "peerNoopRps", label: "   Better Auth no-op route", value: rps("peerNoop"), unit: "req/s" },
        { section: 6, key: "ownCodeStepRps", label: "   code step (same rounds)", value: rps("ownCode"), unit: "req/s" },
        { section: 6, key: "ownPasswordStepRps", label: "   password step (same rounds)", value: rps("ownPassword"), unit: "req/s" },
        { section: 6, key: "ownNoopRps", label: "   our no-op route (same rounds)", value: rps("ownNoop"), unit: "req/s" },
        { section: 6, key: "peerVerifyTotpP99Ms", label: "   Better Auth verify-totp p99", value: median(rounds.map((r) => r.peerCode.p99Ms)), unit: "ms" },
        { section: 6, key: "ownCodeStepP99Ms", label: "   code step p99 (same rounds)", value: median(rounds.map((r) => r.ownCode.p99Ms)), unit: "ms" },
      ],
      details: { peer: peerVersions(), check, rounds, caveat, peerWarnings: peerWarnings.slice(0, 20) },
    };
  } finally {
    await peer?.stop();
    await peerSql?.end();
    await pg?.drop();
  }
}

type Check = {
  realCookieMatchesSigned: boolean;
  realRows: { identifier: string; value: string; lifetimeSeconds: number }[];
  preparedRows: { identifier: string; value: string; lifetimeSeconds: number }[];
  realSignIn: number;
  preparedSignIn: number;
  replayAccepted: boolean;
};

/**
 * Before any timed window: one real sign-in/email → verify-totp of the probe user, and its rows
 * and cookie compared with what freshPeerChallenges writes (same two rows, same values and
 * lifetime; the cookie the server set is the identifier signed as signPeerCookie signs it). Then a
 * prepared challenge must sign in, and a second real sign-in with the code already used tells
 * whether the peer accepts a replay. Throws if the prepared challenges are not what it makes.
 */
async function checkChallenges(peer: PeerServer, sql: Sql, user: PeerUser, userAgent: string): Promise<Check> {
  const send = async (r: BenchRequest) => {
    const answer = await request(peer.origin + r.path, { method: r.method, headers: r.headers, body: r.body });
    const text = await answer.body.text();
    return { status: answer.statusCode, setCookie: answer.headers["set-cookie"], text };
  };
  const rows = (identifier: string) => sql<{ identifier: string; value: string; lifetimeSeconds: number }[]>`
    select identifier, value, round(extract(epoch from "expiresAt" - "createdAt"))::int as "lifetimeSeconds"
    from verification where identifier in (${identifier}, ${"2fa-attempts-" + identifier}) order by length(identifier)`;
  const signIn = async () => {
    const answer = await send(peerPost(peer, SIGN_IN, { email: user.email, password: BENCH_PASSWORD }, userAgent));
    const cookie = setCookieValue(answer.setCookie, PEER_COOKIES.twoFactor);
    if (answer.status !== 200 || !cookie || !JSON.parse(answer.text).twoFactorRedirect) throw new Error(`peer sign-in/email: ${answer.status} ${answer.text}`);
    return cookie;
  };
  const verifyTotp = async (cookie: string, code: string) => {
    const answer = await send(peerPost(peer, VERIFY_TOTP, { code }, userAgent, `${PEER_COOKIES.twoFactor}=${cookie}`));
    return { status: answer.status, signedIn: signedIn(answer.setCookie), text: answer.text };
  };

  const realCookie = await signIn();
  const identifier = decodeURIComponent(realCookie).slice(0, decodeURIComponent(realCookie).lastIndexOf("."));
  const realRows = await rows(identifier);
  const code = hotp(user.key, timeStep());
  const real = await verifyTotp(realCookie, code);
  if (real.status !== 200 || !real.signedIn) throw new Error(`peer verify-totp with a real challenge: ${real.status} ${real.text}`);

  const [prepared] = await freshPeerChallenges(sql, [user]);
  const preparedIdentifier = decodeURIComponent(prepared.cookie).slice(0, decodeURIComponent(prepared.cookie).lastIndexOf("."));
  const preparedRows = await rows(preparedIdentifier);
  const shape = (r: { identifier: string; value: string; lifetimeSeconds: number }[], id: string) =>
    JSON.stringify(r.map((row) => ({ kind: row.identifier === id ? "challenge" : row.identifier === `2fa-attempts-${id}` ? "attempts" : row.identifier, value: row.value, lifetime: row.lifetimeSeconds })));
  const realCookieMatchesSigned = signPeerCookie(identifier) === realCookie;
  const sameShape = shape(realRows, identifier) === shape(preparedRows, preparedIdentifier);
  if (!realCookieMatchesSigned || !sameShape || !/^2fa-[A-Za-z0-9_-]{20}$/.test(identifier)) {
    throw new Error(`peer challenges differ from a real sign-in's: cookie ${realCookieMatchesSigned ? "matches" : "differs"}; real ${shape(realRows, identifier)}, prepared ${shape(preparedRows, preparedIdentifier)}`);
  }
  const preparedAnswer = await verifyTotp(prepared.cookie, code);
  if (preparedAnswer.status !== 200 || !preparedAnswer.signedIn) throw new Error(`peer verify-totp with a prepared challenge: ${preparedAnswer.status} ${preparedAnswer.text}`);
  // The prepared challenge above already took the code a second time; a third, through a real sign-in, leaves no doubt.
  const replay = await verifyTotp(await signIn(), code);
  return {
    realCookieMatchesSigned,
    realRows,
    preparedRows,
    realSignIn: real.status,
    preparedSignIn: preparedAnswer.status,
    replayAccepted: replay.status === 200 && replay.signedIn,
  };
}
