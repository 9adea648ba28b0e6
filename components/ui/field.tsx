import { useId } from "react";
import { inputClass } from "./input-class";

type FieldProps = React.InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  errors?: string[];
  hint?: string;
  /** Shown under the hint and read with it (a strength meter); given the id its element must carry. */
  more?: (id: string) => React.ReactNode;
};

/** A labelled input whose errors are tied to it (aria-describedby, aria-invalid) and announced (aria-live). */
export function Field({ label, name, errors, hint, more, className = "", ...input }: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const moreId = `${id}-more`;
  const describedBy = [hint ? hintId : null, more ? moreId : null, errors?.length ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`flex flex-col gap-1 ${className}`}>
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        name={name}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy}
        className={inputClass}
        {...input}
      />
      {hint ? (
        <p id={hintId} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      ) : null}
      {more?.(moreId)}
      {/* Always present, empty until there is an error: a live region must exist before its message to be announced. */}
      <p id={errorId} aria-live="polite" className="text-sm text-red-700 empty:sr-only dark:text-red-400">
        {errors?.[0]}
      </p>
    </div>
  );
}

export function Checkbox({ label, name, ...input }: React.InputHTMLAttributes<HTMLInputElement> & { label: string; name: string }) {
  const id = useId();
  return (
    <div className="flex items-center gap-2">
      <input id={id} name={name} type="checkbox" className="size-4 accent-brand-600" {...input} />
      <label htmlFor={id} className="text-sm">
        {label}
      </label>
    </div>
  );
}
