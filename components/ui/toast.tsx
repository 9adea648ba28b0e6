"use client";
import { useEffect, useState } from "react";

const EVENT = "app:toast";
const SHOWN_MS = 5_000;

/**
 * The short confirmation after a change made in a dialog that closes (Add user, User properties):
 * the dialog is gone, so the news goes to one place on the page, announced and then faded out.
 */
export function toast(message: string): void {
  window.dispatchEvent(new CustomEvent<string>(EVENT, { detail: message }));
}

/** Mounted once per page frame. Always present, empty: a live region must exist before its message. */
export function Toaster() {
  const [message, setMessage] = useState<{ text: string; id: number } | null>(null);
  useEffect(() => {
    const show = (event: Event) => setMessage({ text: (event as CustomEvent<string>).detail, id: Date.now() });
    window.addEventListener(EVENT, show);
    return () => window.removeEventListener(EVENT, show);
  }, []);
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), SHOWN_MS);
    return () => clearTimeout(timer);
  }, [message]);
  return (
    <div role="status" className="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex justify-center px-4">
      {message ? (
        <p
          key={message.id}
          className="pointer-events-auto max-w-md rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg dark:bg-slate-100 dark:text-slate-900"
        >
          {message.text}
        </p>
      ) : null}
    </div>
  );
}
