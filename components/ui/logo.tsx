/** The product's mark and name: the padlock of app/icon.svg beside "Two-factor sign-in". */
export function Logo({ className = "", compactOnPhone = false }: { className?: string; compactOnPhone?: boolean }) {
  return (
    <span className={`inline-flex items-center gap-2 font-semibold whitespace-nowrap ${className}`}>
      <svg aria-hidden viewBox="0 0 32 32" className="size-6 shrink-0">
        <rect width="32" height="32" rx="7" className="fill-brand-600" />
        <path d="M10 14v-3a6 6 0 0 1 12 0v3" fill="none" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" />
        <rect x="8" y="14" width="16" height="11" rx="2.5" fill="#fff" />
        <circle cx="16" cy="19.5" r="2" className="fill-brand-600" />
      </svg>
      {/* On a phone's header only the mark shows; the name stays for screen readers. */}
      <span className={compactOnPhone ? "max-sm:sr-only" : undefined}>Two-factor sign-in</span>
    </span>
  );
}
