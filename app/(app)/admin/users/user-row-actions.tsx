"use client";
import { useState } from "react";
import { Menu, MenuItem } from "@/components/ui/menu";
import { UserPropertiesDialog } from "./user-properties-dialog";

/** The Actions button of one row: a menu with Edit, which opens User properties. */
export function UserRowActions({ userId, userName }: { userId: string; userName: string }) {
  const [editing, setEditing] = useState(false);
  return (
    <>
      <Menu
        buttonClassName="min-h-9 min-w-9 justify-center rounded-md border border-slate-300 bg-white px-3 py-1.5 shadow-sm max-sm:px-2 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700"
        label={
          <>
            {/* On a phone only the chevron shows, to leave the row's width to the email address. */}
            <span className="max-sm:sr-only">Actions</span>
            <span className="sr-only"> for {userName}</span>
            <svg aria-hidden viewBox="0 0 20 20" className="size-5 fill-current text-slate-500 sm:size-4 dark:text-slate-400">
              <path d="M5.2 7.2a.75.75 0 0 1 1.06 0L10 10.94l3.74-3.74a.75.75 0 1 1 1.06 1.06l-4.27 4.27a.75.75 0 0 1-1.06 0L5.2 8.26a.75.75 0 0 1 0-1.06Z" />
            </svg>
          </>
        }
      >
        <MenuItem onSelect={() => setEditing(true)}>Edit</MenuItem>
      </Menu>
      {editing ? <UserPropertiesDialog userId={userId} onClose={() => setEditing(false)} /> : null}
    </>
  );
}
