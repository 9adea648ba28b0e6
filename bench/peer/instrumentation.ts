// Creates (or completes) the schema with Better Auth's own migrator before the server answers,
// so that the tables are exactly those of this version and plugin set; the bench seeds them after.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getMigrations } = await import("better-auth/db/migration");
  const { authOptions } = await import("./lib/auth");
  const { runMigrations } = await getMigrations(authOptions);
  await runMigrations();
}
