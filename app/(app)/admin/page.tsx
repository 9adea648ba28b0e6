import { redirect } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";

export default async function AdminIndex() {
  await requireAdmin();
  redirect("/admin/settings");
}
