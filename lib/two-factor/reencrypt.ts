import "server-only";
import { and, eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { totpCredentials } from "@/db/schema";
import { decryptSecret, encryptSecret, isEncryptedWithNewestKey } from "@/lib/crypto";

export type ReencryptResult = { reencrypted: number; alreadyNewest: number; unreadable: number };

/**
 * The last step of a key rotation (docs/DEPLOY.md): every TOTP secret still
 * encrypted with an older key of TOTP_ENCRYPTION_KEY is encrypted again with
 * the newest, after which the older keys can be removed. Safe while the app
 * runs: each row is replaced only if it still holds the ciphertext read (a
 * user who re-enrolls meanwhile keeps the new secret). A secret no listed key
 * decrypts is counted, left as it is, and never printed.
 */
export async function reencryptTotpSecrets(db: Executor): Promise<ReencryptResult> {
  const rows = await db.select({ userId: totpCredentials.userId, ciphertext: totpCredentials.secretCiphertext }).from(totpCredentials);
  const result: ReencryptResult = { reencrypted: 0, alreadyNewest: 0, unreadable: 0 };
  for (const row of rows) {
    if (isEncryptedWithNewestKey(row.ciphertext)) {
      result.alreadyNewest++;
      continue;
    }
    let plaintext: string;
    try {
      plaintext = decryptSecret(row.ciphertext, row.userId);
    } catch {
      result.unreadable++;
      continue;
    }
    const updated = await db
      .update(totpCredentials)
      .set({ secretCiphertext: encryptSecret(plaintext, row.userId) })
      .where(and(eq(totpCredentials.userId, row.userId), eq(totpCredentials.secretCiphertext, row.ciphertext)))
      .returning({ userId: totpCredentials.userId });
    if (updated.length === 1) result.reencrypted++;
  }
  return result;
}
