"use client";
import { useEffect, useRef, useState } from "react";
import { Field } from "./field";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_SCORE, passwordLengthProblem, type PasswordContext } from "@/lib/validation/password-policy";

type Strength = { score: number; problem: string | null };

// The dictionaries (~400 KB) load the first time the field is focused, never with the page.
const loadJudge = () => import("@/lib/validation/password-strength").then((m) => m.judgePasswordStrength);

const LABELS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"];
const BAR_COLOURS = ["bg-red-600", "bg-red-600", "bg-amber-500", "bg-green-600", "bg-green-600"];

type NewPasswordFieldProps = {
  label: string;
  name: string;
  minLength: number;
  errors?: string[];
  hint?: string;
  /** Whose password: fixed (Change password), or read from the form's `name` and `email` fields as typed. */
  context: PasswordContext | { fromForm: true; whose: PasswordContext["whose"] };
};

/**
 * A new-password input with a strength meter: the same judgement the server
 * makes (lib/validation/password-strength), shown while typing. Only a
 * guide: the server judges again whatever the meter said.
 */
export function NewPasswordField({ label, name, minLength, errors, hint, context }: NewPasswordFieldProps) {
  const [strength, setStrength] = useState<Strength | null>(null);
  const latest = useRef(0);
  const meter = useRef<HTMLDivElement>(null);
  // React empties a form after its action ran: the meter must not go on judging a password no longer there.
  useEffect(() => {
    const form = meter.current?.closest("form");
    const clear = () => {
      latest.current++;
      setStrength(null);
    };
    form?.addEventListener("reset", clear);
    return () => form?.removeEventListener("reset", clear);
  }, []);

  async function judge(input: HTMLInputElement) {
    const run = ++latest.current;
    const password = input.value;
    if (!password) return setStrength(null);
    const judgePasswordStrength = await loadJudge();
    if (run !== latest.current) return; // a later keystroke already asked
    const judged = judgePasswordStrength(password, contextOf(input, context));
    const tooShort = passwordLengthProblem(password, minLength);
    setStrength(tooShort ? { score: Math.min(judged.score, PASSWORD_MIN_SCORE - 1), problem: tooShort } : judged);
  }

  return (
    <Field
      label={label}
      name={name}
      type="password"
      required
      autoComplete="new-password"
      minLength={minLength}
      maxLength={PASSWORD_MAX_LENGTH}
      errors={errors}
      hint={hint}
      onFocus={() => void loadJudge()}
      onChange={(event) => void judge(event.currentTarget)}
      more={(id) => <StrengthMeter ref={meter} id={id} strength={strength} />}
    />
  );
}

function StrengthMeter({ id, strength, ref }: { id: string; strength: Strength | null; ref: React.Ref<HTMLDivElement> }) {
  const score = strength?.score ?? 0;
  return (
    <div ref={ref} id={id} className="flex flex-col gap-1">
      {/* Named "Strength", not "Password …": a label search for "Password" must find the input alone. */}
      <div
        hidden={!strength}
        role="meter"
        aria-label="Strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={score}
        aria-valuetext={LABELS[score]}
        className="grid h-1.5 grid-cols-4 gap-1"
      >
        {[1, 2, 3, 4].map((step) => (
          // Score 0 still fills one segment, so "Very weak" is visibly something.
          <span key={step} className={`rounded-full ${step <= Math.max(score, 1) ? BAR_COLOURS[score] : "bg-slate-200 dark:bg-slate-700"}`} />
        ))}
      </div>
      {/* Always present, like Field's error line: a live region must exist before its message to be announced. */}
      <p aria-live="polite" className="text-xs text-slate-600 empty:sr-only dark:text-slate-400">
        {strength ? `Strength: ${LABELS[score]}.${strength.problem ? ` ${strength.problem}` : ""}` : null}
      </p>
    </div>
  );
}

function contextOf(input: HTMLInputElement, context: NewPasswordFieldProps["context"]): PasswordContext {
  if (!("fromForm" in context)) return context;
  const value = (field: string) => {
    const element = input.form?.elements.namedItem(field);
    return element instanceof HTMLInputElement ? element.value : "";
  };
  return { name: value("name"), email: value("email"), whose: context.whose };
}
