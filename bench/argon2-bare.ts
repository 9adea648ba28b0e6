/**
 * The hash alone: argon2id verifications per second of `hash` (the bench
 * users' hash, made by the app's hashPassword, so the same m, t, p), with
 * `concurrency` verifications in flight — what the password step could reach
 * if everything around the hash were free. Run as its own process, like the server.
 *   tsx bench/argon2-bare.ts <hash> <password> <seconds> <concurrency>
 * Prints one JSON line: { verifications, seconds, perSecond }.
 */
import { verify } from "@node-rs/argon2";

async function main(): Promise<void> {
  const [hash, password, secondsArg, concurrencyArg] = process.argv.slice(2);
  const seconds = Number(secondsArg);
  const concurrency = Number(concurrencyArg);
  if (!hash || !password || !(seconds > 0) || !(concurrency > 0)) throw new Error("usage: argon2-bare <hash> <password> <seconds> <concurrency>");
  if (!(await verify(hash, password))) throw new Error("the password does not match the hash");
  let verifications = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      if (!(await verify(hash, password))) throw new Error("verification failed");
      verifications++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ verifications, seconds: elapsed, perSecond: verifications / elapsed }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
