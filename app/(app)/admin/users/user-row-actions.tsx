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
        label={
          <>
            Actions<span className="sr-only"> for {userName}</span>
          </>
        }
      >
        {(close) => (
          <MenuItem close={close} onSelect={() => setEditing(true)}>
            Edit
          </MenuItem>
        )}
      </Menu>
      {editing ? <UserPropertiesDialog userId={userId} onClose={() => setEditing(false)} /> : null}
    </>
  );
}
