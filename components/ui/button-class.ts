// Shared by client buttons and server-rendered links that look like buttons.
export type Variant = "primary" | "secondary" | "danger" | "ghost" | "subtle";

const VARIANTS: Record<Variant, string> = {
  primary: "bg-brand-600 text-white shadow-sm hover:bg-brand-700",
  secondary:
    "border border-slate-300 bg-white text-slate-900 shadow-sm hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700",
  danger: "bg-red-700 text-white shadow-sm hover:bg-red-800",
  ghost: "text-brand-700 underline-offset-2 hover:underline dark:text-brand-100",
  // A way out (Cancel beside a link-like action): present, but quieter than the way forward.
  subtle: "text-slate-600 underline-offset-2 hover:underline dark:text-slate-400",
};

// Disabled (also while pending) keeps its colour, dimmed, so the button does not seem to change meaning.
export function buttonClass(variant: Variant = "primary"): string {
  return `inline-flex min-h-10 items-center justify-center gap-2 rounded-md px-4 py-2 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:cursor-not-allowed disabled:opacity-60 ${VARIANTS[variant]}`;
}

/** A text link in the product's colour (Next, Show all users): one look for every in-page link. */
export const linkClass = "font-medium text-brand-700 hover:underline dark:text-brand-100";
