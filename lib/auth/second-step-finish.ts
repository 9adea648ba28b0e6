import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "@/db";
import { auditEvents, sessions, signInChallenges, totpCredentials, users } from "@/db/schema";
import { preparedRawStatement } from "@/db/prepared";
import { auditedContext, recordEvent, type RequestContext } from "@/lib/audit";
import { consumeChallenge, findChallenge } from "@/lib/auth/challenge";
import { recordSession, SESSION_MAX_AGE_SECONDS, type NewSession } from "@/lib/auth/session-records";
import { sha256Hex } from "@/lib/crypto";
import { clearSecondFactorFailures } from "@/lib/two-factor/lockout";
import type { Accepted, Consumed } from "./factors/factor";

/** Thrown inside the transaction to roll it back when a parallel request won a race. */
class LostRace extends Error {
  constructor(readonly what: "challenge" | "factor") {
    super(what);
  }
}

/** "challenge": it was used or expired meanwhile; "factor": what the proof uses up was taken (Accepted.lost). */
export type Finish = { ok: true; consumed: Consumed } | { ok: false; lost: "challenge" | "factor" };

/**
 * The success path of every factor, all or nothing: the challenge consumed
 * (of parallel requests on one challenge, exactly one session), what the
 * factor uses up consumed, the failures a guessable factor's reservation
 * counted cleared, the sign-in audited, and the session's row written — with
 * the challenge it consumes, so a session row exists only for a finished
 * second step, and the busiest sign-in is one statement (no round trip more).
 */
export async function finishSecondStep(
  db: Database,
  challenge: string,
  session: NewSession,
  accepted: Accepted,
  guessable: boolean,
  context: RequestContext,
): Promise<Finish> {
  const userId = session.userId;
  if (accepted.timeStep !== undefined && !accepted.consume) {
    const outcome = await finishWithTimeStep(db, challenge, session, accepted.factor, accepted.timeStep, context);
    return outcome === "ok" ? { ok: true, consumed: {} } : { ok: false, lost: outcome };
  }
  try {
    const consumed = await db.transaction(async (tx) => {
      if (!(await consumeChallenge(tx, challenge))) throw new LostRace("challenge");
      const used = accepted.consume ? await accepted.consume(tx) : {};
      if (!used) throw new LostRace("factor");
      if (guessable) await clearSecondFactorFailures(tx, userId);
      await recordEvent(tx, "sign_in.succeeded", { actorUserId: userId, targetUserId: userId }, context, { factor: accepted.factor });
      await recordSession(tx, session, context);
      return used;
    });
    return { ok: true, consumed };
  } catch (error) {
    if (!(error instanceof LostRace)) throw error;
    return { ok: false, lost: error.what };
  }
}

/**
 * The common success, a TOTP code without "Trust this browser", in one
 * statement instead of a transaction of six: the busiest write of the app
 * (docs/PERFORMANCE.md). Each step runs only if the one before it changed a
 * row, in this order:
 *   1. the time step moves forward by compare-and-set (RFC 6238 §5.2: of
 *      parallel requests with this code, one wins), while the challenge lives;
 *   2. the challenge is deleted (of parallel requests on one challenge, one
 *      wins: exactly one session per password step);
 *   3. the failures counted by this attempt's reservation are cleared
 *      (the reservation, made before the code was judged, is what a lock refuses);
 *   4. the sign-in is audited and the session's row written.
 * The challenge's row is locked first, as every finishing transaction and a
 * key's removal lock it first: with the app's row taken first, this statement
 * and a "Trust this browser" finish of the same code deadlocked on PostgreSQL.
 * A single statement is atomic on its own. When a later step finds nothing
 * to change, the earlier ones stay done: a code consumed without a session.
 * That only ever takes something away from whoever sent the request, never
 * grants it.
 */
async function finishWithTimeStep(
  db: Database,
  challenge: string,
  session: NewSession,
  factor: string,
  timeStep: number,
  context: RequestContext,
): Promise<"ok" | "factor" | "challenge"> {
  const [row] = await finishWithTimeStepStatement(db).run({
    tokenHash: sha256Hex(challenge),
    ...session,
    timeStep,
    details: JSON.stringify({ factor }),
    ...auditedContext(context),
  });
  if (Number(row?.audited) === 1 && Number(row?.session) === 1) return "ok";
  // The challenge is checked in step 1 too: no factor change means a lost compare-and-set or a dead challenge.
  if (Number(row?.factor) === 1) return "challenge";
  return (await findChallenge(db, challenge)) ? "factor" : "challenge";
}

const value = (name: string) => sql.placeholder(name);
const live = sql`${signInChallenges.tokenHash} = ${value("tokenHash")} and ${signInChallenges.expiresAt} > now()`;
const finishWithTimeStepStatement = preparedRawStatement<{ factor: number; challenge: number; audited: number; session: number }>(
  "finish_with_time_step",
  sql`
    with live_challenge as (
      select 1 from ${signInChallenges} where ${live} for update
    ), factor as (
      update ${totpCredentials} set last_used_step = ${value("timeStep")}
      where ${totpCredentials.userId} = ${value("userId")}
        and (${totpCredentials.lastUsedStep} is null or ${totpCredentials.lastUsedStep} < ${value("timeStep")})
        and exists (select 1 from live_challenge)
      returning user_id
    ), challenge as (
      delete from ${signInChallenges} where ${live} and exists (select 1 from factor) returning user_id
    ), unlocked as (
      update ${users} set second_factor_failures = 0, second_factor_lockouts = 0, second_factor_locked_until = null
      where ${users.id} = (select user_id from challenge)
      returning id
    ), audited as (
      insert into ${auditEvents} (event, actor_user_id, target_user_id, ip, user_agent, details)
      select 'sign_in.succeeded', id, id, ${value("ip")}, ${value("userAgent")}, ${value("details")}::jsonb
      from unlocked
      returning id
    ), session as (
      insert into ${sessions} (sid, user_id, session_version, ip, user_agent, expires_at)
      select ${value("sid")}::text, id, ${value("sessionVersion")}::int, ${value("ip")}::text, ${value("userAgent")}::text,
             now() + make_interval(secs => ${SESSION_MAX_AGE_SECONDS})
      from unlocked
      returning sid
    )
    select (select count(*)::int from factor) as factor, (select count(*)::int from challenge) as challenge,
           (select count(*)::int from audited) as audited, (select count(*)::int from session) as session`,
);
