import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message as the SMTP server received it: the envelope, and the decoded header and body. */
export type ReceivedMail = {
  /** Envelope recipients (RCPT TO): who the mail really went to, whatever the headers say. */
  rcptTo: string[];
  subject: string;
  /** The plain-text body, transfer encoding undone. */
  text: string;
  /** The whole message as sent, headers included. */
  raw: string;
  headers: Map<string, string>;
};

export type SmtpSink = {
  /** `smtp://127.0.0.1:<port>` — what SMTP_URL should be. */
  readonly url: string;
  readonly port: number;
  /** Every message received since the last clear(). */
  readonly messages: ReceivedMail[];
  clear(): void;
  /** Waits until `count` messages (matching `filter`, if given) arrived; throws after `timeoutMs`. */
  waitFor(count: number, filter?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
};

/**
 * A real SMTP server on 127.0.0.1 and a free port that keeps what it
 * receives: tests see the mail exactly as a mail server would. No TLS
 * (STARTTLS is not offered); any AUTH is accepted, without it too.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: "sink" });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        // Kept before the reply: once the client hears 250, the message is here.
        messages.push(parseMessage(Buffer.concat(chunks).toString("utf8"), session.envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    clear: () => void messages.splice(0),
    async waitFor(count, filter = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = messages.filter(filter);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`expected ${count} mail(s), got ${matching.length}: ${messages.map((m) => m.subject).join(" | ")}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parseMessage(raw: string, rcptTo: string[]): ReceivedMail {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  // Unfold continuation lines, then one header per line.
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = headers.get("content-transfer-encoding")?.toLowerCase();
  const text = encoding === "quoted-printable" ? decodeQuotedPrintable(body) : encoding === "base64" ? Buffer.from(body, "base64").toString("utf8") : body;
  return { rcptTo, subject: headers.get("subject") ?? "", text: text.replace(/\r\n/g, "\n"), raw, headers };
}

/** RFC 2045 §6.7: soft line breaks ("=" at the end of a line) and =XX bytes, as UTF-8. */
function decodeQuotedPrintable(body: string): string {
  const joined = body.replace(/=\r\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
