import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashPassword } from "@/lib/auth/password";
import type { SignInTemplates } from "../lib/actions";
import { rssMiB, startApp, type Storage } from "../lib/app-server";
import { BENCH_PASSWORD, PORTS, benchEmail, benchTotpSecret } from "../lib/config";
import { createPgDatabase, openMigrated, seedBenchUsers } from "../lib/database";
import { median } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { signInOverHttp } from "../lib/sign-in";

/**
 * 4a. `npm start` (prestart's build check, then `next start`) until the first
 * 200 from /login: on a new embedded-database folder, on an existing one, and
 * on an existing (migrated) PostgreSQL database. Each start is a new process
 * tree; the median of `rounds`. Then, on the existing folder and on
 * PostgreSQL, one sign-in (password and code) and the server's resident memory.
 */
export async function startAndMemory(templates: SignInTemplates, options: RunOptions): Promise<SectionResult> {
  const rounds = options.quick ? 1 : 3;
  const times = { newPglite: [] as number[], existingPglite: [] as number[], postgres: [] as number[] };
  const stages: Record<string, Record<string, number>[]> = { newPglite: [], existingPglite: [], postgres: [] };
  const rss: { pglite?: number; postgres?: number } = {};
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const pg = await createPgDatabase("start");
  try {
    {
      // A migrated database with one bench user: "existing" as after any earlier start.
      const handle = await openMigrated({ url: pg.url });
      await seedBenchUsers(handle.db, 1, passwordHash);
      await handle.close();
    }
    for (let round = 0; round < rounds; round++) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-pglite-"));
      try {
        options.log(`start: new embedded database (${round + 1}/${rounds})`);
        times.newPglite.push(await timeStart({ dataDir }, stages.newPglite));
        // The app has created and migrated it; add the bench user (the server is stopped: PGlite allows one process).
        const handle = await openMigrated({ dataDir });
        await seedBenchUsers(handle.db, 1, passwordHash);
        await handle.close();
        options.log(`start: existing embedded database (${round + 1}/${rounds})`);
        times.existingPglite.push(await timeStart({ dataDir }, stages.existingPglite, round === 0 ? (mib) => void (rss.pglite = mib) : undefined, templates));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      options.log(`start: PostgreSQL (${round + 1}/${rounds})`);
      times.postgres.push(await timeStart({ url: pg.url }, stages.postgres, round === 0 ? (mib) => void (rss.postgres = mib) : undefined, templates));
    }
  } finally {
    await pg.drop();
  }
  return {
    figures: [
      { section: 4, key: "firstLoginExistingMs", label: "4. npm start → first /login, existing PGlite", value: median(times.existingPglite), unit: "ms", target: { op: "<=", value: 1500 } },
      { section: 4, key: "firstLoginNewMs", label: "   npm start → first /login, new PGlite", value: median(times.newPglite), unit: "ms" },
      { section: 4, key: "firstLoginPostgresMs", label: "   npm start → first /login, PostgreSQL", value: median(times.postgres), unit: "ms", target: { op: "<=", value: 2000 } },
      { section: 4, key: "rssPgliteMb", label: "   server RSS after a sign-in, PGlite", value: rss.pglite ?? null, unit: "MiB" },
      { section: 4, key: "rssPostgresMb", label: "   server RSS after a sign-in, PostgreSQL", value: rss.postgres ?? null, unit: "MiB" },
    ],
    details: {
      startMs: times,
      // ms from spawning npm start: "ready" = Next logged Ready (npm, build check, boot), "database" = opened and migrated
      // (instrumentation), "firstLogin" = the first 200 from /login.
      stages,
      ensureBuildMs: timeEnsureBuild(),
      rounds,
      via: "npm start (prestart build check, then next start)",
    },
  };
}

/** prestart alone (the check that the build is newer than the sources), part of every npm start. */
function timeEnsureBuild(): number {
  const started = performance.now();
  execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { stdio: "ignore" });
  return performance.now() - started;
}

/** One `npm start`; optionally signs in and reports the server's RSS before stopping it. */
async function timeStart(storage: Storage, stages: Record<string, number>[], onRss?: (mib: number) => void, templates?: SignInTemplates): Promise<number> {
  const { server, firstLoginMs, marks } = await startApp(PORTS.start, storage, { via: "npm" });
  stages.push({ ...marks, firstLogin: firstLoginMs });
  try {
    if (onRss && templates) {
      await signInOverHttp(server.origin, templates, { email: benchEmail(1), secret: benchTotpSecret(1) });
      onRss(rssMiB(server.serverPid()));
    }
  } finally {
    await server.stop();
  }
  return firstLoginMs;
}
