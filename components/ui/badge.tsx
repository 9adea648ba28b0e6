import { TONE_SURFACE, type Tone } from "./tone";

/** A short state word (Enabled, Off, Administrator) as a pill. */
export function Badge({ tone = "neutral", children }: { tone?: Tone; children: React.ReactNode }) {
  return (
    <span className={`inline-flex items-center rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${TONE_SURFACE[tone]}`}>
      {children}
    </span>
  );
}
