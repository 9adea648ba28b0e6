"use client";
import { useActionState, useEffect, useState } from "react";
import { Button, SubmitButton } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { toast } from "@/components/ui/toast";
import type { FormState } from "@/lib/validation/messages";
import { addUserAction } from "./actions";

export function AddUserDialog() {
  const [open, setOpen] = useState(false);
  const [state, action] = useActionState<FormState, FormData>(addUserAction, { status: "idle" });
  useEffect(() => {
    if (state.status === "success") {
      setOpen(false);
      if (state.message) toast(state.message);
    }
  }, [state]);
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  return (
    <div>
      <Button onClick={() => setOpen(true)}>Add user</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Add user">
        <form action={action} className="flex flex-col gap-4" noValidate>
          <Field label="Name" name="name" required maxLength={100} autoComplete="off" errors={errors?.name} />
          <Field label="Email" name="email" type="email" required maxLength={254} autoComplete="off" errors={errors?.email} />
          <Field label="Password" name="password" type="password" required minLength={8} maxLength={128} autoComplete="new-password" errors={errors?.password} hint="At least 8 characters." />
          <Checkbox label="Administrator" name="admin" />
          <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <SubmitButton>Save</SubmitButton>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
