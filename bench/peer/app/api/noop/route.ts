// The framework floor of this app, as /api/health/live is the app's: the cheapest answer a route
// handler of this build gives (no database, no session).
export const dynamic = "force-dynamic";

export function GET(): Response {
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
