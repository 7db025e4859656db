import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import { isCopaError } from '../errors.js';
import { readReport } from '../report/index.js';
import { assertGolden, repoRoot } from '../../test/report/golden.js';
import {
  buildVexDocument,
  defaultVexAuthor,
  vexAuthorFromEnv,
  writeVexDocument,
  type BuildVexDocumentInput,
  type VexPlatformResult,
} from './index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schema = JSON.parse(
  await readFile(join(repoRoot, 'testdata/vex/openvex-0.2.0.schema.json'), 'utf8'),
) as object;
const ajv = addFormats(new Ajv2020({ allErrors: true }));
const validate = ajv.compile(schema);

function assertValidOpenVex(doc: unknown): void {
  const ok = validate(doc);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
}

const now = new Date('2026-12-01T12:00:00Z');
const fixedId = (): string => 'https://openvex.dev/docs/public/vex-fixture';
const amd64Digest = 'sha256:' + 'a1'.repeat(32);
const arm64Digest = 'sha256:' + 'b2'.repeat(32);
const indexDigest = 'sha256:' + 'c3'.repeat(32);

const imageRef = { repositoryUrl: 'registry.example.test/acme/app', name: 'app' };

const arm64: VexPlatformResult = {
  platform: { os: 'linux', architecture: 'arm64' },
  os: { family: 'debian', version: '12.5' },
  imageRef,
  manifestDigest: arm64Digest,
  updated: [
    {
      name: 'openssl',
      installedVersion: '3.0.15-1~deb12u1',
      arch: 'arm64',
      vulnerabilityIds: ['CVE-2024-5535', 'CVE-2024-2511'],
    },
    { name: 'libssl3', installedVersion: '3.0.15-1~deb12u1', vulnerabilityIds: ['CVE-2024-5535'] },
    { name: 'libc6', installedVersion: '2.36-9+deb12u7', vulnerabilityIds: [] },
  ],
};
const amd64: VexPlatformResult = {
  ...arm64,
  platform: { os: 'linux', architecture: 'amd64' },
  manifestDigest: amd64Digest,
  updated: [
    { name: 'openssl', installedVersion: '3.0.15-1~deb12u1', vulnerabilityIds: ['CVE-2024-5535'] },
    {
      name: 'zlib1g',
      installedVersion: '1:1.2.13.dfsg-1+deb12u1',
      vulnerabilityIds: ['CVE-2023-45853'],
    },
  ],
};

describe('buildVexDocument()', () => {
  it('states each fixed vulnerability for every patched manifest and the index', async () => {
    const doc = buildVexDocument({
      results: [arm64, amd64],
      indexDigest,
      now,
      idGenerator: fixedId,
    });
    assert.ok(doc);
    assertValidOpenVex(doc);
    assert.equal(doc['@context'], 'https://openvex.dev/ns/v0.2.0');
    assert.equal(doc.author, defaultVexAuthor);
    assert.equal(doc.timestamp, '2026-12-01T12:00:00.000Z');
    assert.deepEqual(
      doc.statements.map((s) => [s.vulnerability.name, s.status, s.products.length]),
      [
        ['CVE-2023-45853', 'fixed', 2],
        ['CVE-2024-2511', 'fixed', 2],
        ['CVE-2024-5535', 'fixed', 3],
      ],
    );
    await assertGolden(
      'vex/debian-12-multi-platform.openvex.json',
      `${JSON.stringify(doc, null, 2)}\n`,
    );
  });

  it('names images and packages with package URLs carrying arch, distro and epoch', () => {
    const doc = buildVexDocument({ results: [arm64, amd64], now, idGenerator: fixedId })!;
    const ids = doc.statements.flatMap((s) =>
      s.products.flatMap((p) => [p['@id'], ...(p.subcomponents ?? []).map((c) => c['@id'])]),
    );
    const has = (id: string): void =>
      assert.ok(ids.includes(id), `${id} not in\n${ids.join('\n')}`);
    has(`pkg:oci/app@${arm64Digest}?repository_url=registry.example.test%2Facme%2Fapp`);
    has('pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=arm64&distro=debian-12.5');
    has('pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=arm64&distro=debian-12.5');
    has('pkg:deb/debian/zlib1g@1.2.13.dfsg-1+deb12u1?arch=amd64&distro=debian-12.5&epoch=1');
    assert.ok(
      !ids.some((id) => id.includes('libc6')),
      'a package that closed nothing is not named',
    );
  });

  it('uses the distribution architecture names of apk and rpm packages', () => {
    const doc = buildVexDocument({
      results: [
        {
          platform: { os: 'linux', architecture: 'arm64' },
          os: { family: 'alpine', version: '3.19.1' },
          imageRef: { repositoryUrl: 'docker.io/library/alpine', name: 'alpine' },
          manifestDigest: arm64Digest,
          updated: [
            { name: 'libssl3', installedVersion: '3.1.5-r0', vulnerabilityIds: ['CVE-2024-4603'] },
          ],
        },
        {
          platform: { os: 'linux', architecture: 'amd64' },
          os: { family: 'rocky', version: '9.3' },
          imageRef: { repositoryUrl: 'docker.io/library/rockylinux', name: 'rockylinux' },
          manifestDigest: amd64Digest,
          updated: [
            {
              name: 'openssl-libs',
              installedVersion: '1:3.0.7-27.el9',
              vulnerabilityIds: ['CVE-2024-0727'],
            },
          ],
        },
      ],
      now,
      idGenerator: fixedId,
    })!;
    assertValidOpenVex(doc);
    const subs = doc.statements.flatMap((s) => s.products.flatMap((p) => p.subcomponents ?? []));
    assert.deepEqual(subs.map((c) => c['@id']).sort(), [
      'pkg:apk/alpine/libssl3@3.1.5-r0?arch=aarch64&distro=alpine-3.19.1',
      'pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rocky-9.3&epoch=1',
    ]);
  });

  it('gives the same document whatever the order of its input', () => {
    const input: BuildVexDocumentInput = {
      results: [arm64, amd64],
      indexDigest,
      now,
      idGenerator: fixedId,
    };
    const reversed: BuildVexDocumentInput = {
      ...input,
      results: [amd64, { ...arm64, updated: [...arm64.updated].reverse() }],
    };
    assert.deepEqual(buildVexDocument(reversed)?.statements, buildVexDocument(input)?.statements);
  });

  it('returns undefined when no vulnerability was fixed', () => {
    const nothing = {
      ...arm64,
      updated: [{ name: 'libc6', installedVersion: '2.36-9+deb12u7', vulnerabilityIds: [] }],
    };
    assert.equal(buildVexDocument({ results: [nothing] }), undefined);
    assert.equal(buildVexDocument({ results: [] }), undefined);
  });

  it('derives a content-hash @id by default and takes the author it is given', () => {
    const a = buildVexDocument({ results: [arm64], now, author: 'Acme Security' })!;
    const b = buildVexDocument({ results: [arm64], now, author: 'Acme Security' })!;
    assertValidOpenVex(a);
    assert.match(a['@id'], /^https:\/\/openvex\.dev\/docs\/public\/vex-[0-9a-f]{64}$/);
    assert.equal(a['@id'], b['@id']);
    assert.equal(a.author, 'Acme Security');
  });

  it('builds a valid document from the updates of a scanner report', async () => {
    const manifest = await readReport(join(repoRoot, 'testdata/reports/trivy/rocky-9-amd64.json'));
    const doc = buildVexDocument({
      results: [
        {
          platform: manifest.platform!,
          os: manifest.os,
          imageRef: { repositoryUrl: 'registry.example.test/rockylinux', name: 'rockylinux' },
          manifestDigest: amd64Digest,
          updated: manifest.updates.map((u) => ({
            name: u.name,
            installedVersion: u.fixedVersion,
            ...(u.arch ? { arch: u.arch } : {}),
            vulnerabilityIds: u.vulnerabilityIds,
          })),
        },
      ],
      now,
    });
    assertValidOpenVex(doc);
    assert.equal(doc?.statements.length, 4);
  });
});

describe('vexAuthorFromEnv()', () => {
  it('uses COPA_VEX_AUTHOR when set and the default otherwise', () => {
    assert.equal(vexAuthorFromEnv({ COPA_VEX_AUTHOR: 'Acme Security' }), 'Acme Security');
    assert.equal(vexAuthorFromEnv({ COPA_VEX_AUTHOR: ' ' }), defaultVexAuthor);
    assert.equal(vexAuthorFromEnv({}), defaultVexAuthor);
  });
});

describe('writeVexDocument()', () => {
  it('writes the document as JSON that reads back equal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copa-vex-'));
    try {
      const doc = buildVexDocument({ results: [arm64], now, idGenerator: fixedId })!;
      const path = join(dir, 'vex.json');
      await writeVexDocument(path, doc);
      await writeVexDocument(path, doc);
      assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), doc);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('throws VEX_INVALID naming the path when it cannot write', async () => {
    const doc = buildVexDocument({ results: [arm64], now, idGenerator: fixedId })!;
    const path = join(tmpdir(), 'copa-no-such-dir', 'vex.json');
    await assert.rejects(
      writeVexDocument(path, doc),
      (err) => isCopaError(err, 'VEX_INVALID') && err.message.includes(path),
    );
  });
});
