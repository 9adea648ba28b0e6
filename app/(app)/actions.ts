"use server";
import { signOut } from "@/lib/auth/next-auth";

/** Sign out of this browser (the JWT cookie is cleared). */
export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/login" });
}
