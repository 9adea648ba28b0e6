import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * One HTTP hop in front of a test server, with an address of its own: it
 * connects from `from` (any of 127.0.0.0/8 is this machine on Linux), so the
 * server's socket sees that address, and sets the headers `rewrite` returns
 * on each request it passes on. It plays an attacker's machine (forged
 * headers on every request) or a proxy (X-Forwarded-For appended); clients
 * talk to `url`, and the Host header passes unchanged (same-origin checks hold).
 */
export type Hop = { readonly url: string; stop(): Promise<void> };

export async function startHop(
  targetPort: number,
  options: { from: string; rewrite: (request: http.IncomingMessage) => Record<string, string> },
): Promise<Hop> {
  const server = http.createServer((request, response) => {
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: targetPort,
        localAddress: options.from,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, ...options.rewrite(request) },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
