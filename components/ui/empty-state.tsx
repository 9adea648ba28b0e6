/** What a list shows when it has nothing in it: what that means, and what to do next. */
export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-1 px-6 py-10 text-center">
      <p className="font-medium">{title}</p>
      {children ? <div className="text-sm text-slate-600 dark:text-slate-400">{children}</div> : null}
    </div>
  );
}
