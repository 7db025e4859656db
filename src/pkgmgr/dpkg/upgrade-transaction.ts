/**
 * One attempt to extend an upgrade plan: adds a package version and everything it pulls in
 * (dependencies, broken packages, reverse dependencies, Multi-Arch: same instances), or throws
 * `RESOLUTION_FAILED` naming the chain, so the caller can discard it.
 */
import { CopaError } from '../../errors.js';
import type { PackageRecord } from './apt/index.js';
import { satisfiesVersion, type Relation } from './apt/relations.js';
import {
  describe,
  factsOfRecord,
  keyOf,
  provided,
  providesName,
  type PackageFacts,
} from './package-facts.js';
import type { StatusEntry } from './status-database.js';
import type { CandidateSource } from './resolve.js';

/** What a transaction reads of the system being planned. */
export interface PlanningWorld {
  readonly options: { readonly repositories: CandidateSource; readonly nativeArch: string };
  readonly installed: ReadonlyMap<string, { entry: StatusEntry; facts: PackageFacts }>;
  readonly plan: ReadonlyMap<string, PlanItem>;
  /** The candidate for an installed instance, when newer. */
  candidateFor(facts: PackageFacts): PackageRecord | undefined;
}

export interface PlanItem {
  readonly record: PackageRecord;
  readonly facts: PackageFacts;
  readonly old: StatusEntry | undefined;
  readonly reason: string;
  /** The plan item that pulled this one in, for messages naming the chain. */
  readonly parent: string | undefined;
}

/** One attempt to extend the plan; thrown `RESOLUTION_FAILED` errors discard it. */
export class Transaction {
  readonly world: PlanningWorld;
  readonly items = new Map<string, PlanItem>();
  readonly #queue: string[] = [];

  constructor(world: PlanningWorld) {
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
