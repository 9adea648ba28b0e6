import { CredentialsSignin } from "next-auth";
import type { SecondStepError } from "@/lib/auth/second-step";

/** Carries the reason out of `authorize()` to the login action (Auth.js passes `code` through). */
export class SecondStepFailed extends CredentialsSignin {
  constructor(reason: SecondStepError) {
    super(reason);
    this.code = reason;
  }
}
