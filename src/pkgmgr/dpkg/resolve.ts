/**
 * apt-like planning of an upgrade: requested packages to their candidates, then the closure
 * that keeps the system consistent (same-source siblings, dependencies of the new versions,
 * installed packages they would break, Multi-Arch: same instances in lockstep).
 */
import { CopaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { FailedPackage, UpdateRequest } from '../types.js';
import type { AptRepositories, PackageRecord } from './apt/index.js';
import { factsOfEntry, keyOf, type PackageFacts } from './package-facts.js';
import type { StatusEntry } from './status-database.js';
import { Transaction, type PlanItem, type PlanningWorld } from './upgrade-transaction.js';
import { compareDebianVersions } from './version.js';

/** One package version the upgrade installs. */
export interface PlannedPackage {
  readonly record: PackageRecord;
  /** The installed instance it replaces; `undefined` for a new dependency. */
  readonly old: StatusEntry | undefined;
  /** Why it is in the plan (`requested`, `same source as "openssl"`, `dependency of "x"`). */
  readonly reason: string;
}

export interface UpgradePlan {
  readonly packages: readonly PlannedPackage[];
  readonly failed: readonly FailedPackage[];
  readonly held: readonly string[];
}

/** The parts of {@link AptRepositories} planning uses. */
export type CandidateSource = Pick<AptRepositories, 'candidate' | 'providers'>;

export interface ResolveOptions {
  readonly installed: readonly StatusEntry[];
  readonly repositories: CandidateSource;
  readonly request: UpdateRequest;
  readonly nativeArch: string;
  readonly logger: Logger;
}

/**
 * Plans the upgrade. Each requested package is planned in its own transaction: when its closure
 * cannot be satisfied it is reported in `failed` and the others go on.
 */
export function resolveUpgrade(options: ResolveOptions): UpgradePlan {
  const world = new World(options);
  const failed: FailedPackage[] = [];
  const held = new Set<string>();
  for (const seed of world.seeds(options.request, failed, held)) {
    const tx = world.begin();
    try {
      tx.add(seed.record, seed.old, seed.reason, undefined);
      tx.close();
      world.commit(tx);
    } catch (err) {
      if (!(err instanceof CopaError) || seed.fixedVersion === undefined) {
        if (!(err instanceof CopaError)) throw err;
        options.logger.warn(`skipping "${seed.record.name}": ${err.message}`);
        continue;
      }
      failed.push({ name: seed.request, fixedVersion: seed.fixedVersion, reason: err.message });
    }
  }
  return { packages: world.planned(), failed, held: [...held] };
}

interface Seed {
  readonly record: PackageRecord;
  readonly old: StatusEntry;
  readonly reason: string;
  /** Set for requested packages (failures are reported); siblings only warn. */
  readonly fixedVersion: string | undefined;
  readonly request: string;
}

/** The installed system plus the committed plan. */
class World implements PlanningWorld {
  readonly options: ResolveOptions;
  readonly installed = new Map<string, { entry: StatusEntry; facts: PackageFacts }>();
  readonly plan = new Map<string, PlanItem>();

  constructor(options: ResolveOptions) {
    this.options = options;
    for (const entry of options.installed) {
      this.installed.set(keyOf(entry), { entry, facts: factsOfEntry(entry) });
    }
  }

  begin(): Transaction {
    return new Transaction(this);
  }

  commit(tx: Transaction): void {
    for (const [key, item] of tx.items) this.plan.set(key, item);
  }

  planned(): PlannedPackage[] {
    return [...this.plan.values()].map(({ record, old, reason }) => ({ record, old, reason }));
  }

  /** The candidate for an installed instance, when newer. */
  candidateFor(facts: PackageFacts): PackageRecord | undefined {
    const arch = facts.arch === 'all' ? this.options.nativeArch : facts.arch;
    const record = this.options.repositories.candidate(facts.name, arch);
    if (record === undefined) return undefined;
    if (record.architecture !== arch && record.architecture !== 'all') return undefined;
    return compareDebianVersions(record.version, facts.version) > 0 ? record : undefined;
  }

  *seeds(request: UpdateRequest, failed: FailedPackage[], held: Set<string>): Iterable<Seed> {
    const all = [...this.installed.values()];
    const requests =
      request.kind === 'all'
        ? all.map((i) => ({ name: i.entry.name, fixedVersion: undefined }))
        : request.packages;
    const seen = new Set<string>();
    for (const req of requests) {
      const [name = req.name, arch] = req.name.split(':');
      let instances = all.filter((i) => i.entry.name === name && (!arch || i.entry.arch === arch));
      if (instances.length === 0) instances = all.filter((i) => i.facts.source === name);
      if (instances.length === 0 && req.fixedVersion !== undefined) {
        failed.push({ ...req, reason: `"${req.name}" is not installed in the image` });
        continue;
      }
      for (const inst of instances) {
        if (seen.has(keyOf(inst.entry))) continue;
        seen.add(keyOf(inst.entry));
        const seed = this.#seedFor(inst, req, failed, held);
        if (seed === undefined) continue;
        yield seed;
        yield* this.#siblings(seed, seen, held);
      }
    }
  }

  #seedFor(
    inst: { entry: StatusEntry; facts: PackageFacts },
    req: { name: string; fixedVersion: string | undefined },
    failed: FailedPackage[],
    held: Set<string>,
  ): Seed | undefined {
    const { entry } = inst;
    const fixed = req.fixedVersion;
    if (fixed !== undefined && compareDebianVersions(entry.version, fixed) >= 0) {
      this.options.logger.debug(`"${entry.name}" ${entry.version} already at ${fixed} or later`);
      return undefined;
    }
    const candidate = this.candidateFor(inst.facts);
    if (candidate === undefined && fixed === undefined) return undefined;
    if (entry.want === 'hold') {
      held.add(entry.name);
      return undefined;
    }
    if (fixed !== undefined && (candidate === undefined || lower(candidate, fixed))) {
      const found = this.options.repositories.candidate(entry.name, archOf(inst.facts, this));
      const what = found === undefined ? 'no candidate found' : `newest is "${found.version}"`;
      const reason = `no fixed version available in the configured repositories: ${what}`;
      failed.push({ name: req.name, fixedVersion: fixed, reason });
      return undefined;
    }
    const reason = fixed === undefined ? 'upgradable' : 'requested';
    return { record: candidate!, old: entry, reason, fixedVersion: fixed, request: req.name };
  }

  /** Installed binaries of the same source whose candidate comes from the same source version. */
  *#siblings(seed: Seed, seen: Set<string>, held: Set<string>): Iterable<Seed> {
    for (const inst of this.installed.values()) {
      const key = keyOf(inst.entry);
      if (seen.has(key) || inst.facts.source !== seed.record.source) continue;
      const candidate = this.candidateFor(inst.facts);
      if (candidate === undefined || candidate.sourceVersion !== seed.record.sourceVersion)
        continue;
      seen.add(key);
      if (inst.entry.want === 'hold') {
        held.add(inst.entry.name);
        continue;
      }
      const reason = `same source as "${seed.record.name}"`;
      yield { record: candidate, old: inst.entry, reason, fixedVersion: undefined, request: '' };
    }
  }
}

function lower(record: PackageRecord, fixed: string): boolean {
  return compareDebianVersions(record.version, fixed) < 0;
}

function archOf(facts: PackageFacts, world: World): string {
  return facts.arch === 'all' ? world.options.nativeArch : facts.arch;
}
