"use client";
import { useEffect, useRef } from "react";

/**
 * True when the focused control is gone: it was removed with the step it
 * belonged to, and the browser fell back to the body (or the dialog itself).
 * Keyboard and screen-reader users would go on from the top of the page.
 */
export function focusWasLost(): boolean {
  const active = document.activeElement;
  return active === null || active === document.body || active instanceof HTMLDialogElement;
}

/**
 * A ref for the element (a step's heading, tabIndex -1) that takes focus when
 * it appears after focus was lost. Runs after React's autoFocus, so a field
 * that focuses itself keeps it.
 */
export function useFocusIfLost<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (focusWasLost()) ref.current?.focus();
  }, []);
  return ref;
}
