/**
 * apt-like planning of an upgrade: requested packages to their candidates, then the closure
 * that keeps the system consistent (same-source siblings, dependencies of the new versions,
 * installed packages they would break, Multi-Arch: same instances in lockstep).
 */
import { CopaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { FailedPackage, UpdateRequest } from '../types.js';
import type { AptRepositories, PackageRecord } from './apt/index.js';
import {
  parseSourceField,
  satisfiesVersion,
  tryParseRelations,
  type Relation,
  type RelationGroups,
} from './apt/relations.js';
import { fieldValue } from './control.js';
import type { StatusEntry } from './status-database.js';
import { compareDebianVersions } from './version.js';

/** What dependency checks need of a package version, installed or from an index. */
export interface PackageFacts {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly multiArch: string;
  readonly source: string;
  readonly sourceVersion: string;
  readonly depends: RelationGroups;
  readonly preDepends: RelationGroups;
  readonly provides: RelationGroups;
  readonly breaks: RelationGroups;
  readonly conflicts: RelationGroups;
}

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

function relations(entry: StatusEntry, field: string): RelationGroups {
  const value = fieldValue(entry.stanza, field);
  return value === undefined ? [] : (tryParseRelations(value) ?? []);
}

/** Reads the dependency facts of an installed stanza. */
export function factsOfEntry(entry: StatusEntry): PackageFacts {
  const source = parseSourceField(fieldValue(entry.stanza, 'Source'), entry);
  return {
    name: entry.name,
    arch: entry.arch,
    version: entry.version,
    multiArch: entry.multiArch ?? 'no',
    source: source.name,
    sourceVersion: source.version,
    depends: relations(entry, 'Depends'),
    preDepends: relations(entry, 'Pre-Depends'),
    provides: relations(entry, 'Provides'),
    breaks: relations(entry, 'Breaks'),
    conflicts: relations(entry, 'Conflicts'),
  };
}

/** Reads the dependency facts of an index record. */
export function factsOfRecord(record: PackageRecord): PackageFacts {
  return {
    name: record.name,
    arch: record.architecture,
    version: record.version,
    multiArch: record.multiArch,
    source: record.source,
    sourceVersion: record.sourceVersion,
    depends: record.depends,
    preDepends: record.preDepends,
    provides: record.provides,
    breaks: record.breaks,
    conflicts: record.conflicts,
  };
}

const keyOf = (f: { name: string; arch: string }): string => `${f.name}:${f.arch}`;

interface PlanItem {
  readonly record: PackageRecord;
  readonly facts: PackageFacts;
  readonly old: StatusEntry | undefined;
  readonly reason: string;
  /** The plan item that pulled this one in, for messages naming the chain. */
  readonly parent: string | undefined;
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
class World {
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

/** One attempt to extend the plan; thrown `RESOLUTION_FAILED` errors discard it. */
class Transaction {
  readonly world: World;
  readonly items = new Map<string, PlanItem>();
  readonly #queue: string[] = [];

  constructor(world: World) {
    this.world = world;
  }

  #item(key: string): PlanItem | undefined {
    return this.items.get(key) ?? this.world.plan.get(key);
  }

  /** Every instance of the final system: planned versions over installed ones. */
  *final(): Iterable<PackageFacts> {
    for (const [key, inst] of this.world.installed) {
      const planned = this.#item(key);
      yield planned?.facts ?? inst.facts;
    }
    for (const [key, item] of [...this.world.plan, ...this.items]) {
      if (!this.world.installed.has(key) && item.old === undefined) yield item.facts;
    }
  }

  add(record: PackageRecord, old: StatusEntry | undefined, reason: string, parent?: string) {
    const facts = factsOfRecord(record);
    const oldKey = old === undefined ? undefined : keyOf(old);
    const key = oldKey ?? keyOf(facts);
    const existing = this.#item(key);
    if (existing !== undefined) {
      if (existing.record.version === record.version) return;
      throw this.#fail(
        parent,
        `"${record.name}" is needed at ${record.version} and ${existing.record.version}`,
      );
    }
    if (old?.want === 'hold') {
      throw this.#fail(parent, `"${old.name}" must be upgraded but is on hold`);
    }
    this.items.set(key, { record, facts, old, reason, parent });
    this.#queue.push(key);
  }

  close(): void {
    for (let key = this.#queue.shift(); key !== undefined; key = this.#queue.shift()) {
      const item = this.#item(key)!;
      this.#lockstep(key, item);
      for (const group of [...item.facts.preDepends, ...item.facts.depends]) {
        if (!this.#satisfied(group, item.facts)) this.#fix(group, key, item);
      }
      this.#breaks(key, item);
      this.#reverse(key, item);
    }
  }

  #chain(key: string | undefined): string {
    const names: string[] = [];
    for (let k = key; k !== undefined; k = this.#item(k)?.parent) {
      const item = this.#item(k);
      if (item === undefined) break;
      names.unshift(`"${item.record.name}" ${item.record.version}`);
    }
    return names.join(' -> ');
  }

  #fail(key: string | undefined, reason: string): CopaError {
    const chain = this.#chain(key);
    return new CopaError('RESOLUTION_FAILED', chain === '' ? reason : `${chain}: ${reason}`, {
      hint: "Check that the image's apt sources include the updates and security suites.",
    });
  }

  /** Other installed instances of a `Multi-Arch: same` package move to the same version. */
  #lockstep(key: string, item: PlanItem): void {
    if (item.facts.multiArch !== 'same') return;
    for (const [other, inst] of this.world.installed) {
      if (other === key || inst.entry.name !== item.facts.name || this.#item(other)) continue;
      const record = this.world.options.repositories.candidate(inst.entry.name, inst.entry.arch);
      if (record?.version !== item.record.version) {
        throw this.#fail(key, `no "${inst.entry.name}:${inst.entry.arch}" ${item.record.version}`);
      }
      this.add(record, inst.entry, `same package as "${item.record.name}"`, key);
    }
  }

  #satisfied(group: readonly Relation[], from: PackageFacts): boolean {
    const finalSet = [...this.final()];
    return group.some((r) => finalSet.some((f) => this.#provides(f, r, from)));
  }

  /** Reports whether `f` satisfies `r` for a dependency of `from` (names, provides, arches). */
  #provides(f: PackageFacts, r: Relation, from: PackageFacts): boolean {
    if (!this.#archOk(f, r, from)) return false;
    if (f.name === r.name) return satisfiesVersion(f.version, r);
    return f.provides.some((g) =>
      g.some((p) => {
        if (p.name !== r.name) return false;
        if (r.version === undefined) return true;
        return p.version?.operator === '=' && satisfiesVersion(p.version.version, r);
      }),
    );
  }

  #archOk(f: PackageFacts, r: Relation, from: PackageFacts): boolean {
    const native = this.world.options.nativeArch;
    const arch = (a: string): string => (a === 'all' ? native : a);
    if (r.archQualifier === 'any') {
      return (
        f.multiArch === 'allowed' || f.multiArch === 'foreign' || arch(f.arch) === arch(from.arch)
      );
    }
    if (r.archQualifier !== undefined && r.archQualifier !== 'native') {
      return arch(f.arch) === r.archQualifier;
    }
    return f.multiArch === 'foreign' || arch(f.arch) === arch(from.arch) || f.arch === 'all';
  }

  #fix(group: readonly Relation[], key: string, item: PlanItem): void {
    const repos = this.world.options.repositories;
    const native = this.world.options.nativeArch;
    const fromArch = item.facts.arch === 'all' ? native : item.facts.arch;
    for (const r of group) {
      for (const [instKey, inst] of this.world.installed) {
        if (inst.entry.name !== r.name || this.#item(instKey)) continue;
        const record = this.world.candidateFor(inst.facts);
        if (record !== undefined && this.#provides(factsOfRecord(record), r, item.facts)) {
          this.add(record, inst.entry, `dependency of "${item.record.name}"`, key);
          return;
        }
      }
    }
    for (const r of group) {
      const arch = r.archQualifier && r.archQualifier !== 'any' && r.archQualifier !== 'native';
      const record = repos.candidate(r.name, arch ? r.archQualifier : fromArch);
      if (record !== undefined && this.#provides(factsOfRecord(record), r, item.facts)) {
        this.add(record, undefined, `dependency of "${item.record.name}"`, key);
        return;
      }
    }
    for (const r of group) {
      for (const provider of repos.providers(r.name)) {
        const record = repos.candidate(provider.name, fromArch);
        if (record !== undefined && this.#provides(factsOfRecord(record), r, item.facts)) {
          this.add(record, undefined, `dependency of "${item.record.name}"`, key);
          return;
        }
      }
    }
    const text = group.map(describe).join(' | ');
    throw this.#fail(key, `depends on ${text}, which no candidate satisfies`);
  }

  /** New Breaks/Conflicts against installed packages, and theirs against the new version. */
  #breaks(key: string, item: PlanItem): void {
    for (const r of [...item.facts.breaks, ...item.facts.conflicts].flat()) {
      for (const [instKey, inst] of this.world.installed) {
        const current = this.#item(instKey)?.facts ?? inst.facts;
        if (instKey === key || current.name === item.facts.name) continue;
        if (!this.#matches(current, r)) continue;
        this.#upgradeBroken(instKey, inst.entry, r, key, item, 'breaks');
      }
    }
    for (const [instKey, inst] of this.world.installed) {
      if (instKey === key || this.#item(instKey)) continue;
      for (const r of [...inst.facts.breaks, ...inst.facts.conflicts].flat()) {
        if (r.name !== item.facts.name && !providesName(item.facts, r.name)) continue;
        if (inst.facts.name === item.facts.name || !this.#matches(item.facts, r)) continue;
        this.#upgradeBroken(instKey, inst.entry, r, key, item, 'is broken by');
      }
    }
  }

  #matches(f: PackageFacts, r: Relation): boolean {
    if (f.name === r.name) return satisfiesVersion(f.version, r);
    if (r.version !== undefined) return false;
    return providesName(f, r.name);
  }

  #upgradeBroken(
    instKey: string,
    entry: StatusEntry,
    r: Relation,
    key: string,
    item: PlanItem,
    verb: string,
  ): void {
    if (this.#item(instKey)) {
      throw this.#fail(key, `${verb} "${entry.name}" (${describe(r)}) at its planned version`);
    }
    const inst = this.world.installed.get(instKey)!;
    const record = this.world.candidateFor(inst.facts);
    const stillBroken =
      record === undefined ||
      this.#matches(factsOfRecord(record), r) ||
      factsOfRecord(record)
        .breaks.concat(factsOfRecord(record).conflicts)
        .flat()
        .some((b) => b.name === item.facts.name && this.#matches(item.facts, b));
    if (stillBroken) {
      throw this.#fail(
        key,
        `${verb} "${entry.name}" ${entry.version}, which would have to be removed`,
      );
    }
    this.add(
      record!,
      entry,
      `${verb === 'breaks' ? 'broken by' : 'breaks'} "${item.record.name}"`,
      key,
    );
  }

  /** Installed packages whose dependencies the new version no longer satisfies. */
  #reverse(key: string, item: PlanItem): void {
    const old = this.world.installed.get(key)?.facts;
    const names = new Set([
      item.facts.name,
      ...provided(item.facts),
      ...(old ? provided(old) : []),
    ]);
    for (const [instKey, inst] of this.world.installed) {
      if (this.#item(instKey)) continue;
      for (const group of [...inst.facts.preDepends, ...inst.facts.depends]) {
        if (!group.some((r) => names.has(r.name))) continue;
        if (this.#satisfied(group, inst.facts)) continue;
        const record = this.world.candidateFor(inst.facts);
        if (record === undefined) {
          const what = `"${inst.entry.name}" ${inst.entry.version} depends on ${group.map(describe).join(' | ')}`;
          throw this.#fail(key, `${what}, and it has no newer version`);
        }
        this.add(record, inst.entry, `depends on "${item.record.name}"`, key);
        break;
      }
    }
  }
}

function provided(f: PackageFacts): string[] {
  return f.provides.flat().map((p) => p.name);
}

function providesName(f: PackageFacts, name: string): boolean {
  return f.provides.some((g) => g.some((p) => p.name === name));
}

function describe(r: Relation): string {
  const arch = r.archQualifier === undefined ? '' : `:${r.archQualifier}`;
  const version = r.version === undefined ? '' : ` (${r.version.operator} ${r.version.version})`;
  return `"${r.name}${arch}${version}"`;
}
