"use client";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useEffect, useState } from "react";
import { OPEN_MY_SETTINGS_EVENT } from "@/components/open-my-settings";
import { Dialog } from "@/components/ui/dialog";
import { Logo } from "@/components/ui/logo";
import { Menu, MenuItem, MenuSubmitItem } from "@/components/ui/menu";
import type { MySettingsData } from "@/components/two-factor/my-settings";

// My Settings (enrollment, codes, sessions: ~9 KiB gzipped) is loaded when the profile menu
// first opens, not with every signed-in page; most page views never open it.
const loadMySettings = () => import("@/components/two-factor/my-settings");
const MySettings = dynamic(() => loadMySettings().then((m) => m.MySettings), {
  ssr: false,
  loading: () => <p className="text-sm text-slate-600 dark:text-slate-400">Loading…</p>,
});

/** The frame of every signed-in page: navigation, and the profile menu at the top right. */
export function AppHeader({
  data,
  isAdmin,
  signOutAction,
}: {
  data: MySettingsData;
  isAdmin: boolean;
  signOutAction: () => Promise<void>;
}) {
  const [settingsOpen, setSettingsOpen] = useState(false);
  useEffect(() => {
    const open = () => {
      void loadMySettings();
      setSettingsOpen(true);
    };
    window.addEventListener(OPEN_MY_SETTINGS_EVENT, open);
    return () => window.removeEventListener(OPEN_MY_SETTINGS_EVENT, open);
  }, []);
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <div className="mx-auto flex max-w-5xl items-center justify-between gap-4 px-4 py-2">
        <nav aria-label="Main" className="flex items-center gap-4 text-sm font-medium">
          <Link href="/">
            <Logo compactOnPhone />
          </Link>
          {isAdmin ? (
            <Link href="/admin/settings" className="text-slate-700 hover:underline dark:text-slate-300">
              Administration
            </Link>
          ) : null}
        </nav>
        <Menu
          onOpen={() => void loadMySettings()}
          label={
            <>
              <span aria-hidden className="flex size-7 items-center justify-center rounded-full bg-brand-100 text-xs font-semibold text-brand-700">
                {initials(data.name)}
              </span>
              {/* Hidden on phones, still part of the button's accessible name. */}
              <span className="sr-only sm:not-sr-only">{data.name}</span>
            </>
          }
        >
          <MenuItem onSelect={() => setSettingsOpen(true)}>My Settings</MenuItem>
          <form action={signOutAction}>
            <MenuSubmitItem>Sign out</MenuSubmitItem>
          </form>
        </Menu>
      </div>
      <Dialog open={settingsOpen} onClose={() => setSettingsOpen(false)} title="My Settings" wide>
        <MySettings data={data} />
      </Dialog>
    </header>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]!.toUpperCase())
    .join("");
}
