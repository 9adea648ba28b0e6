// One look for the data tables (Users, Audit log): a tinted head, hairlines between rows.
export const tableClass = "w-full text-left text-sm";
export const tableHeadClass =
  "border-b border-slate-200 bg-slate-50 text-slate-600 dark:border-slate-800 dark:bg-slate-900/60 dark:text-slate-400";
export const tableRowClass = "border-b border-slate-100 last:border-0 dark:border-slate-800";
