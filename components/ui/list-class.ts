// One look for the item lists in My Settings (security keys, sessions, trusted browsers): a bordered box,
// hairlines between items, each item's text on the left and its buttons on the right (wrapping on a phone).
export const listClass = "divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700";
export const listItemClass = "flex flex-wrap items-center justify-between gap-2 px-3 py-2";
