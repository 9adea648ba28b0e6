"use client";
import { useCallback, useEffect, useState } from "react";
import type { FormState } from "@/lib/validation/messages";

/**
 * A list My Settings loads from a server action and changes with another
 * (Trusted browsers, Sessions): the items (null until loaded), the notice the
 * last change answered, and `act`, which runs a change and reloads the list.
 */
export function useManagedList<T, A extends unknown[]>(load: () => Promise<T[]>, change: (...args: A) => Promise<FormState>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; message: string } | null>(null);
  const reload = useCallback(() => load().then(setItems, () => setItems([])), [load]);
  useEffect(() => {
    reload();
  }, [reload]);
  async function act(...args: A) {
    const result = await change(...args);
    if (result.status !== "idle" && result.message) setNotice({ ok: result.status === "success", message: result.message });
    await reload();
  }
  return { items, notice, act };
}
