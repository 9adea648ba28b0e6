// A plain link: next/link here would ship its code (~3 KiB gzipped) with every page, the sign-in
// page included, since the root not-found boundary is part of every page's bundle.
export default function NotFound() {
  return (
    <main className="flex min-h-[60vh] flex-col items-center justify-center gap-3 px-4 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">The page does not exist, or you do not have access to it.</p>
      <a href="/" className="text-sm font-medium text-brand-700 hover:underline dark:text-brand-100">
        Back to the start
      </a>
    </main>
  );
}
