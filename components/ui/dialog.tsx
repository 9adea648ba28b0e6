"use client";
import { useEffect, useId, useRef } from "react";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal on the native <dialog>: the browser makes the page behind it inert
 * and closes it on Escape. Tab wraps inside it (Chromium lets focus leave for
 * the browser's own controls), and focus goes back to the element that had it
 * before opening, also when the dialog is unmounted instead of closed (the
 * browser only restores focus on close).
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  wide = false,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: React.ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || !open) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      // The browser fires "close" a task after the dialog closed: by then it may be open again
      // (closed with ×, reopened at once). Only a close that is still true is the user's Escape.
      onClose={() => {
        if (ref.current && !ref.current.open) onClose();
      }}
      onKeyDown={(event) => {
        if (event.key === "Tab" && ref.current && wrapFocus(ref.current, event.shiftKey)) event.preventDefault();
      }}
      // text-left: a dialog opened from a table cell (Users → Actions) must not inherit its alignment.
      // Held near the top, not centred: as its lists load and it grows, nothing above them moves
      // (a centred dialog moved its first button away from under the pointer about to click it).
      className={`mx-auto mt-[min(10vh,4rem)] mb-auto max-h-[calc(100%-min(10vh,4rem)-1rem)] w-[calc(100%-2rem)] rounded-xl bg-white p-0 text-left text-slate-900 shadow-xl dark:bg-slate-900 dark:text-slate-100 ${wide ? "max-w-2xl" : "max-w-lg"}`}
    >
      {open ? (
        <div className="flex flex-col gap-4 p-6">
          <div className="flex items-start justify-between gap-4">
            <h2 id={titleId} className="text-lg font-semibold">
              {title}
            </h2>
            <button
              type="button"
              onClick={onClose}
              aria-label="Close"
              className="rounded-md px-2 text-xl leading-none text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800"
            >
              ×
            </button>
          </div>
          {children}
        </div>
      ) : null}
    </dialog>
  );
}

/** Moves focus from the dialog's last control to its first (Shift: first to last); true when it did. */
function wrapFocus(dialog: HTMLDialogElement, backwards: boolean): boolean {
  const active = document.activeElement;
  if (!active) return false;
  const controls = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => element.getClientRects().length > 0);
  if (controls.length === 0) return false;
  const precedes = (element: HTMLElement) => Boolean(element.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
  const follows = (element: HTMLElement) => element !== active && !precedes(element) && !element.contains(active);
  if (backwards ? controls.some(precedes) : controls.some(follows)) return false;
  (backwards ? controls[controls.length - 1] : controls[0])!.focus();
  return true;
}
