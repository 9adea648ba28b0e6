import { TONE_SURFACE, type Tone } from "./tone";

/**
 * A line of news in a tinted box: the confirmation after a change, a warning, a state with its buttons.
 * `live` makes it a status region, for text that appears after something the user did.
 */
export function Notice({
  tone = "neutral",
  live = false,
  className = "",
  children,
  ...props
}: React.HTMLAttributes<HTMLDivElement> & { tone?: Tone; live?: boolean }) {
  return (
    <div role={live ? "status" : undefined} className={`rounded-md border px-3 py-2 text-sm ${TONE_SURFACE[tone]} ${className}`} {...props}>
      {children}
    </div>
  );
}
