/**
 * A package version about to be installed: its control members and spooled data, plus the
 * installed instance it replaces.
 */
import type { RelationGroups } from './apt/relations.js';
import type { ControlField } from './control.js';
import type { InstalledPackage } from './dpkg-database.js';
import type { ControlMember } from './deb-archive.js';
import type { DataMember } from './spool-data.js';

export interface PreparedPackage {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly multiArch: string | undefined;
  /** Fields of the `control` member, in its order. */
  readonly controlFields: readonly ControlField[];
  readonly control: ReadonlyMap<string, ControlMember>;
  readonly members: readonly DataMember[];
  readonly replaces: RelationGroups;
  /** The installed instance it upgrades; `undefined` for a new install. */
  readonly old: InstalledPackage | undefined;
}

/** Decodes a control member as UTF-8 (`undefined` when the package has none). */
export function controlText(pkg: PreparedPackage, member: string): string | undefined {
  const m = pkg.control.get(member);
  return m === undefined ? undefined : Buffer.from(m.bytes).toString('utf8');
}
