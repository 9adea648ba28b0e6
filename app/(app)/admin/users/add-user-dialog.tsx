"use client";
import { useEffect, useState } from "react";
import { Button, SubmitButton } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { NewPasswordField } from "@/components/ui/new-password-field";
import { toast } from "@/components/ui/toast";
import { ConfirmStep, useConfirmedAction } from "../confirm-step";
import { addUserAction } from "./actions";

export function AddUserDialog({ passwordMinLength }: { passwordMinLength: number }) {
  const [open, setOpen] = useState(false);
  // A new administrator waits for the admin's confirmation; the user as typed is then added.
  const { state, submit, confirmation } = useConfirmedAction(addUserAction);
  // Each answer once, while rendering (react.dev: "storing information from previous renders"): a success closes the dialog.
  const [answered, setAnswered] = useState(state);
  if (state !== answered) {
    setAnswered(state);
    if (state.status === "success") setOpen(false);
  }
  useEffect(() => {
    if (state.status === "success" && state.message) toast(state.message);
  }, [state]);
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  const close = () => {
    confirmation?.onCancel(); // reopened, the dialog starts from the form, not from a stale confirmation
    setOpen(false);
  };
  return (
    <div>
      <Button onClick={() => setOpen(true)}>Add user</Button>
      <Dialog open={open} onClose={close} title="Add user">
        {confirmation ? (
          <ConfirmStep {...confirmation} onCancel={close} />
        ) : (
          <form action={submit} className="flex flex-col gap-4" noValidate>
            <Field label="Name" name="name" required maxLength={100} autoComplete="off" errors={errors?.name} />
            <Field label="Email" name="email" type="email" required maxLength={254} autoComplete="off" errors={errors?.email} />
            <NewPasswordField
              label="Password"
              name="password"
              minLength={passwordMinLength}
              errors={errors?.password}
              hint={`At least ${passwordMinLength} characters. Not the user's name or email.`}
              context={{ fromForm: true, whose: "the user's" }}
            />
            <Checkbox label="Administrator" name="admin" />
            <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
            <div className="flex justify-end gap-2">
              <Button variant="secondary" onClick={close}>
                Cancel
              </Button>
              <SubmitButton>Save</SubmitButton>
            </div>
          </form>
        )}
      </Dialog>
    </div>
  );
}
