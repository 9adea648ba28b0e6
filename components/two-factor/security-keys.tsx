"use client";
import { listClass, listItemClass } from "@/components/ui/list-class";
import { useCallback, useEffect, useState } from "react";
import { ActionButton, Button, SubmitButton } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Notice } from "@/components/ui/notice";
import { askKeyToRegister } from "@/components/two-factor/security-key-prompt";
import { ConfirmOwnChange } from "@/components/two-factor/confirm-own-change";
import { RecoveryCodesPanel } from "@/components/two-factor/recovery-codes-panel";
import type { StepUpMethod } from "@/lib/admin/step-up";
import type { FormState } from "@/lib/validation/messages";
import {
  addSecurityKeyAction,
  loadSecurityKeysAction,
  removeSecurityKeyAction,
  renameSecurityKeyAction,
  startAddingKeyAction,
  type SecurityKeyItem,
} from "@/app/(app)/my-settings/security-key-actions";

const day = (iso: string) => new Date(iso).toLocaleDateString();

/** Where Add security key or Remove stands; `then` is what a confirmation lets go on. */
type Flow =
  | { kind: "list" }
  | { kind: "confirm"; method: StepUpMethod; then: () => Promise<void> }
  | { kind: "prompting" }
  | { kind: "naming"; answer: string; suggested: string; state: FormState }
  | { kind: "codes"; recoveryCodes: string[] };

type Outcome = { ok: boolean; message: string } | null;

/**
 * My Settings → Security keys: the user's keys (name, synced or this device
 * only, added, last used) with Rename and Remove, and Add security key. Adding
 * and removing need a fresh confirmation of this session (a current code);
 * adding is the browser's prompt, then a Name and Save — nothing is stored
 * before Save. `firstFactor`: the user has no second factor yet — this key
 * turns two-factor authentication on, and its recovery codes are shown once
 * (`onTwoFactorOn` when they are saved). `passkeySignIn`: the instance
 * allows it, and the list says which keys can sign in alone.
 */
export function SecurityKeys({ firstFactor, passkeySignIn, onTwoFactorOn }: { firstFactor: boolean; passkeySignIn: boolean; onTwoFactorOn: () => Promise<void> }) {
  const [items, setItems] = useState<SecurityKeyItem[] | null>(null);
  const [flow, setFlow] = useState<Flow>({ kind: "list" });
  const [outcome, setOutcome] = useState<Outcome>(null);
  const reload = useCallback(() => loadSecurityKeysAction().then(setItems, () => setItems([])), []);
  useEffect(() => {
    reload();
  }, [reload]);
  const done = async (result: Outcome) => {
    setOutcome(result);
    setFlow({ kind: "list" });
    await reload();
  };

  async function add(): Promise<void> {
    setOutcome(null);
    const started = await startAddingKeyAction();
    if (started.status === "confirm") return setFlow({ kind: "confirm", method: started.method, then: add });
    if (started.status !== "ready") return done({ ok: false, message: started.status === "error" ? started.message : "" });
    setFlow({ kind: "prompting" });
    const answered = await askKeyToRegister(started.options);
    if (!answered.ok) return done({ ok: false, message: answered.message });
    setFlow({ kind: "naming", answer: answered.answer, suggested: suggestedName(answered.attachment, items ?? []), state: { status: "idle" } });
  }

  async function save(answer: string, name: string): Promise<void> {
    const saved = await addSecurityKeyAction(answer, name);
    if (saved.status === "confirm") return setFlow({ kind: "confirm", method: saved.method, then: () => save(answer, name) });
    if (saved.status === "error" && saved.fieldErrors?.name) return setFlow({ kind: "naming", answer, suggested: name, state: saved });
    if ("recoveryCodes" in saved) {
      setOutcome({ ok: true, message: saved.message });
      await reload();
      return setFlow({ kind: "codes", recoveryCodes: saved.recoveryCodes });
    }
    await done(saved.status === "success" ? { ok: true, message: saved.message ?? "" } : { ok: false, message: saved.status === "error" ? saved.message : "" });
  }

  async function remove(key: SecurityKeyItem): Promise<void> {
    setOutcome(null);
    const removed = await removeSecurityKeyAction(key.id);
    if (removed.status === "confirm") return setFlow({ kind: "confirm", method: removed.method, then: () => remove(key) });
    await done(removed.status === "success" ? { ok: true, message: removed.message ?? "" } : { ok: false, message: removed.status === "error" ? removed.message : "" });
  }

  if (!items) return null;
  return (
    <section aria-labelledby="keys-heading" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 id="keys-heading" className="text-sm font-semibold">
          Security keys
        </h3>
        {flow.kind === "list" ? (
          <ActionButton variant="secondary" onAction={add}>
            Add security key
          </ActionButton>
        ) : null}
      </div>
      {items.length === 0 && flow.kind === "list" ? (
        <p className="text-xs text-slate-600 dark:text-slate-400">
          A security key or passkey signs you in with a touch, and cannot be tricked by a fake sign-in page.
          {firstFactor ? " Adding one turns on two-factor authentication." : ""}
        </p>
      ) : null}
      {outcome ? (
        <Notice tone={outcome.ok ? "success" : "danger"} live>
          {outcome.message}
        </Notice>
      ) : null}
      {flow.kind === "confirm" ? (
        <ConfirmOwnChange method={flow.method} onConfirmed={flow.then} onCancel={() => setFlow({ kind: "list" })} />
      ) : flow.kind === "codes" ? (
        <div className="flex flex-col gap-3">
          <h4 className="text-sm font-semibold">Save your recovery codes</h4>
          <p className="text-sm">Two-factor authentication is on. If you lose your security key, a recovery code signs you in.</p>
          <RecoveryCodesPanel
            codes={flow.recoveryCodes}
            onContinue={async () => {
              await onTwoFactorOn();
              setFlow({ kind: "list" });
            }}
          />
        </div>
      ) : flow.kind === "prompting" ? (
        <p role="status" className="text-sm">
          Follow your browser&apos;s prompt: touch your security key, or choose where to save the passkey.
        </p>
      ) : flow.kind === "naming" ? (
        <NameForm
          key={flow.suggested}
          label="Save"
          defaultName={flow.suggested}
          state={flow.state}
          onSave={(name) => save(flow.answer, name)}
          onCancel={() => done(null)}
        />
      ) : null}
      {items.length > 0 ? (
        <ul className={listClass}>
          {items.map((key) => (
            <KeyRow key={key.id} item={key} alone={passkeySignIn && key.passkey} busy={flow.kind !== "list"} onRemove={() => remove(key)} onRenamed={done} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function KeyRow({ item, alone, busy, onRemove, onRenamed }: { item: SecurityKeyItem; alone: boolean; busy: boolean; onRemove: () => Promise<void>; onRenamed: (o: Outcome) => Promise<void> }) {
  const [renaming, setRenaming] = useState(false);
  const [state, setState] = useState<FormState>({ status: "idle" });
  if (renaming) {
    return (
      <li className="px-3 py-2">
        <NameForm
          label="Save"
          defaultName={item.name}
          state={state}
          onCancel={async () => setRenaming(false)}
          onSave={async (name) => {
            const renamed = await renameSecurityKeyAction(item.id, name);
            if (renamed.status === "error" && renamed.fieldErrors?.name) return setState(renamed);
            setRenaming(false);
            await onRenamed({ ok: renamed.status === "success", message: renamed.status === "idle" ? "" : (renamed.message ?? "") });
          }}
        />
      </li>
    );
  }
  return (
    <li data-testid="security-key" className={listItemClass}>
      <span className="min-w-0">
        <span className="font-medium break-words">{item.name}</span>
        <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-800 dark:bg-slate-800 dark:text-slate-200">
          {item.synced ? "Synced" : "This device only"}
        </span>
        <span className="block text-xs text-slate-600 dark:text-slate-400">
          Added {day(item.createdAt)} · last used {item.lastUsedAt ? day(item.lastUsedAt) : "never"}
          {alone ? " · signs in on its own (passkey)" : ""}
        </span>
      </span>
      <span className="flex gap-2">
        <Button variant="secondary" disabled={busy} onClick={() => setRenaming(true)} aria-label={`Rename ${item.name}`}>
          Rename
        </Button>
        <ActionButton variant="secondary" disabled={busy} onAction={onRemove} aria-label={`Remove ${item.name}`}>
          Remove
        </ActionButton>
      </span>
    </li>
  );
}

/** Name → Save, after the browser's prompt or for Rename. */
function NameForm({
  label,
  defaultName,
  state,
  onSave,
  onCancel,
}: {
  label: string;
  defaultName: string;
  state: FormState;
  onSave: (name: string) => Promise<void>;
  onCancel: () => Promise<void>;
}) {
  const errors = state.status === "error" ? (state.fieldErrors?.name ?? [state.message]) : undefined;
  return (
    <form action={(formData) => onSave(String(formData.get("name") ?? ""))} className="flex flex-col gap-3" noValidate>
      <Field label="Name" name="name" defaultValue={defaultName} maxLength={64} required autoFocus autoComplete="off" errors={errors} hint="So you can tell your keys apart." />
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <SubmitButton>{label}</SubmitButton>
      </div>
    </form>
  );
}

/**
 * The Name offered after the prompt. Without an attestation there is no
 * model name to be had (and no metadata service offline): where the key
 * lives is what the browser does say.
 */
function suggestedName(attachment: string | null, keys: SecurityKeyItem[]): string {
  const base = attachment === "platform" ? "Passkey on this device" : "Security key";
  const taken = new Set(keys.map((key) => key.name));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base} ${n}`)) return `${base} ${n}`;
}
