/**
 * Liveness probe for container hosts: 204 as long as this process serves
 * requests. On purpose it touches no database and no session, so that a
 * database outage does not make the orchestrator restart healthy instances
 * (readiness is a different question). bench/ also uses it as the framework
 * floor: the cheapest request a route handler of this app can answer.
 */
export const dynamic = "force-dynamic";

export function GET(): Response {
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
