// The four tones every notice and badge uses, light and dark, so a state reads the same everywhere.
// Each pair keeps a contrast of at least 4.5:1 (axe checks it in both schemes).
export type Tone = "neutral" | "success" | "warning" | "danger" | "brand";

export const TONE_SURFACE: Record<Tone, string> = {
  neutral: "border-slate-200 bg-slate-50 text-slate-800 dark:border-slate-700 dark:bg-slate-800/60 dark:text-slate-200",
  success: "border-green-300 bg-green-50 text-green-900 dark:border-green-800 dark:bg-green-950 dark:text-green-100",
  warning: "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100",
  danger: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
  brand: "border-brand-100 bg-brand-50 text-brand-700 dark:border-brand-700 dark:bg-brand-950 dark:text-brand-100",
};
