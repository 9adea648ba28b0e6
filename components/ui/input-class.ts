// One look for every text box and select. 16 px text: phones zoom into anything smaller on focus.
export const inputClass =
  "h-10 rounded-md border border-slate-300 bg-white px-3 text-base shadow-sm placeholder:text-slate-500 focus:border-brand-600 focus:outline-2 focus:outline-brand-600 aria-invalid:border-red-600 disabled:opacity-60 dark:border-slate-600 dark:bg-slate-900 dark:placeholder:text-slate-400";
