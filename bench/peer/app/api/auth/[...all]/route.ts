import { toNextJsHandler } from "better-auth/next-js";
import { auth } from "../../../../lib/auth";

// Better Auth's own Next.js handler: /api/auth/sign-in/email, /api/auth/two-factor/verify-totp, …
export const { GET, POST } = toNextJsHandler(auth);
