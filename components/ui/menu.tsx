"use client";
import { createContext, useContext, useEffect, useId, useRef, useState } from "react";
import { useFormStatus } from "react-dom";
import { Spinner } from "./spinner";

/**
 * A disclosure menu button (WAI-ARIA menu button pattern, simplified):
 * Escape and clicks outside close it, arrow keys move between the items (Tab
 * too), and choosing an item returns focus to the button before the item acts,
 * so that a dialog the item opens gives focus back to the button, not to the
 * item that closed with the menu.
 */
export function Menu({
  label,
  children,
  align = "right",
  onOpen,
  buttonClassName = "rounded-md px-3 py-2 hover:bg-slate-100 dark:hover:bg-slate-800",
}: {
  label: React.ReactNode;
  children: React.ReactNode;
  align?: "left" | "right";
  /** Called as the menu opens: a chance to start loading what its items open. */
  onOpen?: () => void;
  /** How the button looks (the profile button is bare; a table row's Actions is outlined). */
  buttonClassName?: string;
}) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
      if (["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) {
        event.preventDefault();
        moveFocus(root.current, event.key);
      }
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    root.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  // Given to the items through context, called from their click handlers only.
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  return (
    <div ref={root} className="relative inline-block text-left">
      <button
        ref={button}
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => {
          if (!open) onOpen?.();
          setOpen(!open);
        }}
        className={`flex items-center gap-2 text-sm font-medium ${buttonClassName}`}
      >
        {label}
      </button>
      {open ? (
        <div
          id={menuId}
          role="menu"
          className={`absolute z-20 mt-1 min-w-44 rounded-md border border-slate-200 bg-white py-1 shadow-lg dark:border-slate-700 dark:bg-slate-900 ${align === "right" ? "right-0" : "left-0"}`}
        >
          <CloseMenu value={close}>{children}</CloseMenu>
        </div>
      ) : null}
    </div>
  );
}

function moveFocus(menu: HTMLElement | null, key: string) {
  const items = [...(menu?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
  if (items.length === 0) return;
  const current = items.indexOf(document.activeElement as HTMLElement);
  const from = current === -1 ? (key === "ArrowDown" ? -1 : 0) : current;
  const next =
    key === "Home" ? 0 : key === "End" ? items.length - 1 : (from + (key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
  items[next]!.focus();
}

export const menuItemClass =
  "block w-full px-4 py-2 text-left text-sm hover:bg-slate-100 focus:bg-slate-100 focus:outline-none dark:hover:bg-slate-800 dark:focus:bg-slate-800";

/** The open menu's close: focus back on its button, then the item acts (a dialog it opens gives focus back there). */
const CloseMenu = createContext<() => void>(() => {});

/** A menu entry that closes the menu, then acts. */
export function MenuItem({ onSelect, children }: { onSelect: () => void; children: React.ReactNode }) {
  const close = useContext(CloseMenu);
  return (
    <button
      type="button"
      role="menuitem"
      className={menuItemClass}
      onClick={() => {
        close();
        onSelect();
      }}
    >
      {children}
    </button>
  );
}

/** A menu entry that submits its form (Sign out): it stays open, pending, until the answer navigates away. */
export function MenuSubmitItem({ children }: { children: React.ReactNode }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" role="menuitem" disabled={pending} className={`${menuItemClass} flex items-center gap-2 disabled:opacity-60`}>
      {children}
      {pending ? <Spinner /> : null}
      {pending ? <span className="sr-only"> (working…)</span> : null}
    </button>
  );
}
