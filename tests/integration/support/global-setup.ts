import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../../db";

declare module "vitest" {
  export interface ProvidedContext {
    /** A closed, migrated PGlite data folder; each test file opens its own copy. */
    pgliteTemplateDir: string;
  }
}

/**
 * Initialising a new PGlite database costs ~6 s of CPU; opening an existing
 * one under a second. Build one migrated folder here, through the app's own
 * openDatabase(), and let every file start from a copy of it.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "vitest-pglite-template-"));
  const handle = await openDatabase({ url: null, dataDir: dir });
  try {
    await handle.migrate();
  } finally {
    await handle.close();
  }
  project.provide("pgliteTemplateDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
