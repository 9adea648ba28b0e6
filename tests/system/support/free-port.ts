import net from "node:net";

/** The system tests' own port range: other test servers use 3000–3249 and 3300+. */
const FIRST = 3250;
const LAST = 3299;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/**
 * A port of 3250–3299 nobody listens on now. Starts at a random place so that
 * spec files running side by side (two workers) rarely try the same one.
 */
export async function freePort(): Promise<number> {
  const size = LAST - FIRST + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = FIRST + ((start + i) % size);
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${FIRST}-${LAST}`);
}
