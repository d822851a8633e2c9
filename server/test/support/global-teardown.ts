import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const ferret = globalThis.__heraldFerret;
  if (!ferret) return;
  await ferret.db.stop();
  fs.rmSync(ferret.dir, { recursive: true, force: true });
  globalThis.__heraldFerret = undefined;
}
