"use client";
import { useRouter } from "next/navigation";
import { useTransition } from "react";
import { FormPendingContext } from "./button";

/**
 * A GET form (search, filters) that navigates on the client, so its SubmitButton can show that the
 * results are on their way. Without JavaScript it is a plain GET form and still works.
 * Empty fields are left out of the address.
 */
export function SearchForm({ action, children, ...props }: Omit<React.FormHTMLAttributes<HTMLFormElement>, "action" | "method" | "onSubmit"> & { action: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  return (
    <form
      {...props}
      method="get"
      action={action}
      onSubmit={(event) => {
        event.preventDefault();
        const params = new URLSearchParams();
        for (const [name, value] of new FormData(event.currentTarget)) {
          if (typeof value === "string" && value !== "") params.append(name, value);
        }
        startTransition(() => router.push(params.size ? `${action}?${params}` : action));
      }}
    >
      <FormPendingContext.Provider value={pending}>{children}</FormPendingContext.Provider>
    </form>
  );
}
