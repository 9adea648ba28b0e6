import { generateSync, verifySync } from "otplib";
import { describe, expect, it } from "vitest";
import { checkTotpCode, newTotpSecret, totpUri, TOTP_PERIOD_SECONDS } from "@/lib/two-factor/totp";

const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const STEP = 56_666_667; // an arbitrary RFC 6238 time step (November 2023)
const stepStart = (step: number) => step * TOTP_PERIOD_SECONDS;
const codeOfStep = (step: number) => generateSync({ secret: SECRET, epoch: stepStart(step) + 7 });

// Where in the current 30-second step the check runs: first second, middle, last second.
const POSITIONS = [0, 1, 15, 29];

describe("checkTotpCode: the window is T and T−1 only (RFC 6238 §5.2)", () => {
  it.each(POSITIONS)("accepts the code of the current step T (%is into the step)", (offset) => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP), null, stepStart(STEP) + offset)).toEqual({
      result: "valid",
      timeStep: STEP,
    });
  });

  it.each(POSITIONS)("accepts the code of step T−1, one step of delay (%is into the step)", (offset) => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP - 1), null, stepStart(STEP) + offset)).toEqual({
      result: "valid",
      timeStep: STEP - 1,
    });
  });

  it.each(POSITIONS)("refuses the code of step T+1, from a clock running ahead (%is into the step)", (offset) => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP + 1), null, stepStart(STEP) + offset)).toEqual({ result: "invalid" });
  });

  it.each(POSITIONS)("refuses the code of step T−2, an old code seen over a shoulder (%is into the step)", (offset) => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP - 2), null, stepStart(STEP) + offset)).toEqual({ result: "invalid" });
  });

  it("refuses the code of another secret", () => {
    const other = generateSync({ secret: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", epoch: stepStart(STEP) });
    expect([codeOfStep(STEP), codeOfStep(STEP - 1)]).not.toContain(other); // fixed inputs: checked once
    expect(checkTotpCode(SECRET, other, null, stepStart(STEP) + 3)).toEqual({ result: "invalid" });
  });
});

describe("checkTotpCode: a code is accepted once", () => {
  it("reports a code whose step was already used as replayed", () => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP), STEP, stepStart(STEP) + 3)).toEqual({ result: "replayed", timeStep: STEP });
  });

  it("reports the previous step's code as replayed once a later step was used", () => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP - 1), STEP, stepStart(STEP) + 3)).toEqual({
      result: "replayed",
      timeStep: STEP - 1,
    });
  });

  it("accepts the next step's code after a use", () => {
    expect(checkTotpCode(SECRET, codeOfStep(STEP), STEP - 1, stepStart(STEP) + 3)).toEqual({ result: "valid", timeStep: STEP });
  });

  it("still refuses a wrong code as invalid, not replayed, when a step was used", () => {
    const wrong = "000000";
    expect([codeOfStep(STEP), codeOfStep(STEP - 1)]).not.toContain(wrong); // fixed inputs: checked once
    expect(checkTotpCode(SECRET, wrong, STEP, stepStart(STEP) + 3)).toEqual({ result: "invalid" });
  });
});

describe("checkTotpCode: input that is not six ASCII digits", () => {
  const inputs = [
    "",
    "12345",
    "1234567",
    "١٢٣٤٥٦", // Arabic-Indic digits
    "１２３４５６", // full-width digits
    "12345a",
    " 123456",
    "123 456",
    "+12345",
    "-12345",
    "1e5000",
    "0x1234",
    "12345\n",
    "123456".repeat(2000),
  ];
  it.each(inputs)("returns invalid without throwing for %j", (code) => {
    expect(() => checkTotpCode(SECRET, code, null, stepStart(STEP))).not.toThrow();
    expect(checkTotpCode(SECRET, code, null, stepStart(STEP))).toEqual({ result: "invalid" });
  });
});

describe("new TOTP secrets", () => {
  it("are 160-bit base32 secrets that authenticator apps accept, different each time", () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newTotpSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes = 32 base32 characters
      const code = generateSync({ secret, epoch: stepStart(STEP) });
      expect(verifySync({ secret, token: code, epoch: stepStart(STEP) }).valid).toBe(true);
    }
  });

  it("go into an otpauth:// URI with the issuer and the account", () => {
    const secret = newTotpSecret();
    const uri = new URL(totpUri(secret, "alice@example.test"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("issuer")).toBeTruthy();
    expect(decodeURIComponent(uri.pathname)).toContain("alice@example.test");
  });
});
