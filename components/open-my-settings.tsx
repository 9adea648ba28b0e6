"use client";
import { Button } from "@/components/ui/button";

// My Settings lives in the header (components/app-header.tsx); a page asks it to open with this event.
export const OPEN_MY_SETTINGS_EVENT = "app:open-my-settings";

/** A button on a page that opens the header's My Settings dialog, where 2FA is set up. */
export function OpenMySettingsButton({ children }: { children: React.ReactNode }) {
  return <Button onClick={() => window.dispatchEvent(new Event(OPEN_MY_SETTINGS_EVENT))}>{children}</Button>;
}
