/**
 * Writes the report fixtures of this folder from the tables below:
 * `node --import tsx testdata/reports/generate.ts`. Package names and versions are real Debian
 * 12, Alpine 3.19, Rocky 9 and Ubuntu 22.04 ones; the vulnerability IDs are the ones their
 * security trackers list for those fixes. The JSON shapes follow docs/reports.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function write(relative: string, value: unknown): void {
  const file = join(here, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
}

type Row = [name: string, installed: string, fixed: string, id: string, arch?: string];

function trivyVulns(rows: readonly Row[], purlType: string, distro: string): unknown[] {
  return rows.map(([name, installed, fixed, id, arch]) => {
    const epoch = /^(\d+):/.exec(installed)?.[1];
    const bare = installed.replace(/^\d+:/, '');
    const qualifiers = [
      arch ? `arch=${arch}` : '',
      `distro=${distro}`,
      epoch ? `epoch=${epoch}` : '',
    ]
      .filter((q) => q !== '')
      .join('&');
    return {
      VulnerabilityID: id,
      PkgID: `${name}@${installed}`,
      PkgName: name,
      PkgIdentifier: {
        PURL: `pkg:${purlType}/${name}@${encodeURIComponent(bare)}?${qualifiers}`,
        UID: 'fixture',
      },
      InstalledVersion: installed,
      ...(fixed ? { FixedVersion: fixed } : {}),
      Status: fixed ? 'fixed' : 'affected',
      Severity: 'HIGH',
    };
  });
}

interface TrivyInput {
  family: string;
  version: string;
  image: string;
  arch?: string;
  variant?: string;
  purlType: string;
  purlNamespace: string;
  distro: string;
  rows: readonly Row[];
  extraResults?: unknown[];
}

function trivyReport(input: TrivyInput): unknown {
  const vulns = trivyVulns(input.rows, `${input.purlType}/${input.purlNamespace}`, input.distro);
  return {
    SchemaVersion: 2,
    CreatedAt: '2026-11-30T10:00:00Z',
    ArtifactName: input.image,
    ArtifactType: 'container_image',
    Metadata: {
      OS: { Family: input.family, Name: input.version },
      ImageID: 'sha256:1b4c6f9e9d4a1f0c2b7d6a5e3f8c9b0a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a',
      RepoTags: [input.image],
      ...(input.arch
        ? {
            ImageConfig: {
              architecture: input.arch,
              os: 'linux',
              ...(input.variant ? { variant: input.variant } : {}),
              rootfs: { type: 'layers', diff_ids: [] },
            },
          }
        : {}),
    },
    Results: [
      {
        Target: `${input.image} (${input.family} ${input.version})`,
        Class: 'os-pkgs',
        Type: input.family,
        Vulnerabilities: vulns,
      },
      ...(input.extraResults ?? []),
    ],
  };
}

const debianRows: readonly Row[] = [
  ['openssl', '3.0.11-1~deb12u2', '3.0.13-1~deb12u1', 'CVE-2024-2511', 'amd64'],
  ['openssl', '3.0.11-1~deb12u2', '3.0.15-1~deb12u1', 'CVE-2024-5535', 'amd64'],
  ['openssl', '3.0.11-1~deb12u2', '3.0.15-1~deb12u1', 'CVE-2024-4741', 'amd64'],
  ['libssl3', '3.0.11-1~deb12u2', '3.0.15-1~deb12u1', 'CVE-2024-5535', 'amd64'],
  ['libssl3', '3.0.11-1~deb12u2', '3.0.13-1~deb12u1', 'CVE-2024-2511', 'amd64'],
  ['libc6', '2.36-9+deb12u4', '2.36-9+deb12u7', 'CVE-2024-2961', 'amd64'],
  ['libc6', '2.36-9+deb12u4', '2.36-9+deb12u7', 'CVE-2024-33599', 'amd64'],
  ['libc6', '2.36-9+deb12u4', '2.36-9+deb12u7', 'CVE-2024-2961', 'amd64'],
  [
    'perl-base',
    '5.36.0-7+deb12u1',
    '5.32.1-4+deb11u4, 5.36.0-7+deb12u2',
    'CVE-2023-47038',
    'amd64',
  ],
  ['zlib1g', '1:1.2.13.dfsg-1', '', 'CVE-2023-45853', 'amd64'],
  ['tar', '1.34+dfsg-1.2+deb12u1', '', 'CVE-2005-2541', 'amd64'],
  ['libgnutls30', '3.7.9-2+deb12u2', '3.7.9-2+deb12u3', 'CVE-2024-28834', 'amd64'],
];

const pythonResult = {
  Target: 'Python',
  Class: 'lang-pkgs',
  Type: 'python-pkg',
  Vulnerabilities: [
    {
      VulnerabilityID: 'CVE-2023-32681',
      PkgName: 'requests',
      PkgPath: 'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
      InstalledVersion: '2.28.1',
      FixedVersion: '2.31.0',
      Status: 'fixed',
    },
    {
      VulnerabilityID: 'CVE-2024-35195',
      PkgName: 'requests',
      PkgPath: 'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
      InstalledVersion: '2.28.1',
      FixedVersion: '2.32.0',
      Status: 'fixed',
    },
  ],
};
const secretResult = { Target: '/etc/ssl/private/app.key', Class: 'secret', Secrets: [] };

const debian = {
  family: 'debian',
  version: '12.5',
  image: 'registry.example.test/acme/app:1.0',
  purlType: 'deb',
  purlNamespace: 'debian',
  distro: 'debian-12.5',
};

write(
  'trivy/debian-12-amd64.json',
  trivyReport({
    ...debian,
    arch: 'amd64',
    rows: debianRows,
    extraResults: [pythonResult, secretResult],
  }),
);

const debianArm64Rows = debianRows
  .filter(([name]) => ['openssl', 'libssl3', 'libc6'].includes(name))
  .map(([n, i, f, id]): Row => [n, i, f, id, 'arm64']);
const armhfRows = debianRows
  .filter(([name]) => ['libc6', 'zlib1g'].includes(name))
  .map(([n, i, f, id]): Row => [n, i, f, id, 'armhf']);

write(
  'multi/linux-amd64.json',
  trivyReport({ ...debian, arch: 'amd64', rows: debianRows.slice(0, 6) }),
);
write('multi/linux-arm64.json', trivyReport({ ...debian, rows: debianArm64Rows }));
write('multi/linux-arm-v7.json', trivyReport({ ...debian, rows: armhfRows }));
write('multi/notes.txt', 'Not a report: readReports skips files that do not end in .json.\n');

write('conflict/arm64.json', trivyReport({ ...debian, arch: 'arm64', rows: debianArm64Rows }));
write(
  'conflict/linux-arm64-v8.json',
  trivyReport({ ...debian, arch: 'arm64', variant: 'v8', rows: debianArm64Rows }),
);
write('unnamed/scan.json', trivyReport({ ...debian, rows: debianArm64Rows }));

write(
  'trivy/alpine-3.19-arm64.json',
  trivyReport({
    family: 'alpine',
    version: '3.19.1',
    image: 'alpine:3.19.1',
    arch: 'arm64',
    purlType: 'apk',
    purlNamespace: 'alpine',
    distro: '3.19.1',
    rows: [
      ['libcrypto3', '3.1.4-r5', '3.1.4-r6', 'CVE-2024-2511', 'aarch64'],
      ['libcrypto3', '3.1.4-r5', '3.1.5-r0', 'CVE-2024-4603', 'aarch64'],
      ['libssl3', '3.1.4-r5', '3.1.5-r0', 'CVE-2024-4603', 'aarch64'],
      ['busybox', '1.36.1-r15', '1.36.1-r17', 'CVE-2023-42366', 'aarch64'],
      ['busybox', '1.36.1-r15', '1.36.1-r16', 'CVE-2023-42365', 'aarch64'],
    ],
  }),
);

write(
  'trivy/rocky-9-amd64.json',
  trivyReport({
    family: 'rocky',
    version: '9.3',
    image: 'rockylinux:9.3',
    arch: 'amd64',
    purlType: 'rpm',
    purlNamespace: 'rocky',
    distro: 'rocky-9.3',
    rows: [
      ['openssl-libs', '1:3.0.7-24.el9', '1:3.0.7-25.el9_3', 'CVE-2023-5678', 'x86_64'],
      ['openssl-libs', '1:3.0.7-24.el9', '1:3.0.7-27.el9', 'CVE-2024-0727', 'x86_64'],
      ['glibc', '2.34-83.el9.7', '2.34-100.el9', 'CVE-2024-2961', 'x86_64'],
      ['glibc', '2.34-83.el9.7', '2.34-83.el9_3.12', 'CVE-2023-4911', 'x86_64'],
      ['python3', '3.9.18-1.el9_3', '', 'CVE-2023-27043', 'x86_64'],
    ],
  }),
);

write('trivy/legacy-debian-11.json', [
  {
    Target: 'acme/legacy (debian 11.6)',
    Type: 'debian',
    Vulnerabilities: [
      {
        VulnerabilityID: 'CVE-2023-0286',
        PkgName: 'libssl1.1',
        InstalledVersion: '1.1.1n-0+deb11u3',
        FixedVersion: '1.1.1n-0+deb11u4',
        Severity: 'HIGH',
      },
      {
        VulnerabilityID: 'CVE-2022-4450',
        PkgName: 'libssl1.1',
        InstalledVersion: '1.1.1n-0+deb11u3',
        FixedVersion: '1.1.1n-0+deb11u4',
        Severity: 'HIGH',
      },
      {
        VulnerabilityID: 'CVE-2022-37434',
        PkgName: 'zlib1g',
        InstalledVersion: '1:1.2.11.dfsg-2+deb11u1',
        FixedVersion: '1:1.2.11.dfsg-2+deb11u2',
        Severity: 'CRITICAL',
      },
    ],
  },
  {
    Target: 'app/package-lock.json',
    Type: 'npm',
    Vulnerabilities: [
      {
        VulnerabilityID: 'CVE-2022-25883',
        PkgName: 'semver',
        InstalledVersion: '7.3.7',
        FixedVersion: '7.5.2, 6.3.1, 5.7.2',
      },
    ],
  },
]);

// Grype: one match per (vulnerability, package), fix states fixed / not-fixed / wont-fix.
function grypeMatch(
  [name, version, fixed, id, arch]: Row,
  options: { type: string; purl: string; state?: string },
): unknown {
  const versions = fixed === '' ? [] : fixed.split(',').map((v) => v.trim());
  return {
    vulnerability: {
      id,
      dataSource: `https://security-tracker.debian.org/tracker/${id}`,
      namespace: 'debian:distro:debian:12',
      severity: 'High',
      fix: { versions, state: options.state ?? (versions.length > 0 ? 'fixed' : 'not-fixed') },
    },
    matchDetails: [
      {
        type: 'exact-indirect-match',
        matcher: `${options.type === 'deb' ? 'dpkg' : options.type}-matcher`,
      },
    ],
    artifact: {
      id: `fixture-${name}`,
      name,
      version,
      type: options.type,
      locations: [{ path: '/var/lib/dpkg/status', layerID: 'sha256:fixture' }],
      purl: `${options.purl}/${name}@${encodeURIComponent(version)}?arch=${arch}`,
      upstreams: [],
    },
  };
}

const grypeDebianRows = debianRows
  .filter(([name]) => name !== 'perl-base')
  .map(([n, i, f, id]): Row => [n, i, f, id, 'arm64']);
write('grype/debian-12-arm64.json', {
  matches: [
    ...grypeDebianRows.map((row) => grypeMatch(row, { type: 'deb', purl: 'pkg:deb/debian' })),
    grypeMatch(['libgcrypt20', '1.10.1-3', '', 'CVE-2018-6829', 'arm64'], {
      type: 'deb',
      purl: 'pkg:deb/debian',
      state: 'wont-fix',
    }),
    {
      vulnerability: { id: 'GHSA-9wx4-h78v-vm56', fix: { versions: ['2.32.0'], state: 'fixed' } },
      artifact: {
        name: 'requests',
        version: '2.28.1',
        type: 'python',
        locations: [{ path: '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO' }],
      },
    },
  ],
  source: {
    type: 'image',
    target: {
      userInput: 'registry.example.test/acme/app:1.0',
      imageID: 'sha256:1b4c6f9e9d4a1f0c2b7d6a5e3f8c9b0a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a',
      manifestDigest: 'sha256:5d1f2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['registry.example.test/acme/app:1.0'],
      architecture: 'arm64',
      os: 'linux',
    },
  },
  distro: { name: 'debian', version: '12', idLike: null },
  descriptor: { name: 'grype', version: '0.74.0' },
});

// Old Grype: no architecture field, the image config in base64, rpm fix versions with "0:".
const rockyConfig = Buffer.from(
  JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
).toString('base64');
write('grype/rocky-9-arm64-old.json', {
  matches: [
    grypeMatch(['openssl-libs', '1:3.0.7-24.el9', '1:3.0.7-27.el9', 'CVE-2024-0727', 'aarch64'], {
      type: 'rpm',
      purl: 'pkg:rpm/rocky',
    }),
    grypeMatch(['libxml2', '2.9.13-5.el9_3', '0:2.9.13-6.el9_4', 'CVE-2024-25062', 'aarch64'], {
      type: 'rpm',
      purl: 'pkg:rpm/rocky',
    }),
    grypeMatch(
      [
        'libxml2',
        '2.9.13-5.el9_3',
        '0:2.9.13-5.el9_3, 0:2.9.13-6.el9_4',
        'CVE-2023-39615',
        'aarch64',
      ],
      {
        type: 'rpm',
        purl: 'pkg:rpm/rocky',
      },
    ),
  ],
  source: { type: 'image', target: { userInput: 'rockylinux:9.3', config: rockyConfig } },
  distro: { name: 'rocky', version: '9.3', idLike: ['rhel', 'centos', 'fedora'] },
  descriptor: { name: 'grype', version: '0.28.0' },
});

write('native/v1alpha1-ubuntu-22.04.json', {
  apiVersion: 'v1alpha1',
  metadata: { os: { type: 'ubuntu', version: '22.04' }, config: { arch: 'amd64' } },
  updates: [
    {
      name: 'libssl3',
      installedVersion: '3.0.2-0ubuntu1.10',
      fixedVersion: '3.0.2-0ubuntu1.15',
      vulnerabilityID: 'CVE-2023-5678',
    },
    {
      name: 'libssl3',
      installedVersion: '3.0.2-0ubuntu1.10',
      fixedVersion: '3.0.2-0ubuntu1.12',
      vulnerabilityID: 'CVE-2023-3817',
    },
    {
      name: 'curl',
      installedVersion: '7.81.0-1ubuntu1.13',
      fixedVersion: '7.81.0-1ubuntu1.14',
      vulnerabilityID: 'CVE-2023-38545',
    },
  ],
});

write('native/v1alpha2-debian-12-arm-v7.json', {
  apiVersion: 'v1alpha2',
  metadata: { os: { type: 'debian', version: '12.5' }, config: { arch: 'arm', variant: 'v7' } },
  osupdates: [
    {
      name: 'libc6',
      installedVersion: '2.36-9+deb12u4',
      fixedVersion: '2.36-9+deb12u7',
      vulnerabilityID: 'CVE-2024-2961',
      type: 'debian',
      class: 'os-pkgs',
    },
    {
      name: 'zlib1g',
      installedVersion: '1:1.2.13.dfsg-1',
      fixedVersion: '',
      vulnerabilityID: 'CVE-2023-45853',
      type: 'debian',
      class: 'os-pkgs',
    },
  ],
  langupdates: [
    {
      name: 'requests',
      installedVersion: '2.28.1',
      fixedVersion: '2.31.0',
      vulnerabilityID: 'CVE-2023-32681',
      type: 'python-pkg',
      class: 'lang-pkgs',
    },
  ],
});

// Bad input, each refused with one clear error.
write(
  'bad/truncated.json',
  JSON.stringify(trivyReport({ ...debian, arch: 'amd64', rows: debianRows })).slice(0, 700),
);
write(
  'bad/unsupported-os.json',
  trivyReport({
    family: 'archlinux',
    version: '20240101',
    image: 'archlinux:base',
    arch: 'amd64',
    purlType: 'alpm',
    purlNamespace: 'arch',
    distro: 'archlinux',
    rows: [['openssl', '3.2.1-1', '3.2.2-1', 'CVE-2024-4603', 'x86_64']],
  }),
);
const noOs = trivyReport({ ...debian, arch: 'amd64', rows: debianRows.slice(0, 2) }) as {
  Metadata: Record<string, unknown>;
};
delete noOs.Metadata.OS;
write('bad/no-os-metadata.json', noOs);
write('bad/unknown-api-version.json', { apiVersion: 'v2', metadata: {}, updates: [] });
write('bad/empty.json', '');
const unnamed = trivyReport({ ...debian, arch: 'amd64', rows: debianRows.slice(0, 2) }) as {
  Results: { Vulnerabilities: Record<string, unknown>[] }[];
};
delete unnamed.Results[0]!.Vulnerabilities[1]!.PkgName;
write('bad/no-package-name.json', unnamed);
write('bad/not-a-report.json', { kind: 'List', items: [] });
