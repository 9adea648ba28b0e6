"use server";
import { redirect } from "next/navigation";
import { clearChallengeCookie } from "@/lib/auth/challenge-cookie";

// Both sign-in steps are route handlers (./password, ./code); what is left here is leaving a sign-in.

/** Forgets the challenge without navigating (the caller reloads the sign-in page). */
export async function abandonSignInAction(): Promise<void> {
  await clearChallengeCookie();
}

/** Leaves the code step: forget the challenge, back to email and password. */
export async function cancelSignInAction(): Promise<void> {
  await clearChallengeCookie();
  redirect("/login");
}
