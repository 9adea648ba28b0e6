import "server-only";
import nodemailer, { type Transporter } from "nodemailer";
import type { MailSettings } from "@/lib/env";

/** An SMTP server that does not answer must not hold a job (or the CLI) for nodemailer's default minutes. */
const TIMEOUTS_MS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

export type Recipient = { name: string; email: string };
export type Mail = { subject: string; text: string };

const state = globalThis as typeof globalThis & { __mailTransports?: Map<string, Transporter> };

/** One transport per SMTP_URL for the life of the process (Next duplicates module singletons). */
function transportFor(smtpUrl: string): Transporter {
  state.__mailTransports ??= new Map();
  let transport = state.__mailTransports.get(smtpUrl);
  if (!transport) {
    // The URL's own query (e.g. ?tls.rejectUnauthorized=false) wins over these defaults.
    const url = new URL(smtpUrl);
    for (const [key, ms] of Object.entries(TIMEOUTS_MS)) if (!url.searchParams.has(key)) url.searchParams.set(key, String(ms));
    transport = nodemailer.createTransport(url.toString());
    state.__mailTransports.set(smtpUrl, transport);
  }
  return transport;
}

/**
 * Sends one plain-text mail. Nodemailer encodes the recipient's name and
 * address into the header; the subject is always one of the fixed strings of
 * lib/notifications/messages.ts, so nothing from the database reaches a header raw.
 */
export async function sendMail(settings: MailSettings, to: Recipient, mail: Mail): Promise<void> {
  await transportFor(settings.smtpUrl).sendMail({
    from: settings.from,
    to: { name: to.name, address: to.email },
    subject: mail.subject,
    text: mail.text,
  });
}
