"use client";
import { useFocusIfLost } from "@/components/ui/focus";

/** A My Settings view's heading; it takes focus when the control that opened the view is gone (and focus with it). */
export function ViewHeading({ children }: { children: React.ReactNode }) {
  const ref = useFocusIfLost<HTMLHeadingElement>();
  return (
    <h3 ref={ref} tabIndex={-1} className="font-semibold focus:outline-none">
      {children}
    </h3>
  );
}
