import { buttonClass } from "@/components/ui/button-class";
import { Logo } from "@/components/ui/logo";

// A plain link: next/link here would ship its code (~3 KiB gzipped) with every page, the sign-in
// page included, since the root not-found boundary is part of every page's bundle.
export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-6 px-4 py-12 text-center">
      <Logo className="text-lg" />
      <div className="flex flex-col items-center gap-2">
        <p className="text-sm font-semibold text-brand-700 dark:text-brand-100">404</p>
        <h1 className="text-2xl font-semibold">Page not found</h1>
        <p className="max-w-sm text-sm text-slate-600 dark:text-slate-400">The page does not exist, or you do not have access to it.</p>
      </div>
      {/* eslint-disable-next-line @next/next/no-html-link-for-pages -- see above */}
      <a href="/" className={buttonClass("primary")}>
        Back to the start
      </a>
    </main>
  );
}
