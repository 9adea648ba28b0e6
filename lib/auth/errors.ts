import { CredentialsSignin } from "next-auth";
import type { SecondStepError } from "@/lib/auth/second-step";

/** Carries the reason out of `authorize()` to the login action (Auth.js passes `code` through). */
/** "not_a_passkey": a key that is a second factor only was offered to Sign in with a passkey. */
export type SignInFailure = SecondStepError | "not_a_passkey";

export class SecondStepFailed extends CredentialsSignin {
  constructor(reason: SignInFailure) {
    super(reason);
    this.code = reason;
  }
}
