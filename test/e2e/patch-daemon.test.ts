/**
 * `copa patch` without `--push` while a Docker engine runs: each patched platform is loaded into
 * the engine as `<tag>-<arch>[-<variant>]`, and the commands that publish them are printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  buildDebianImageLayout,
  pushLayoutToRegistry,
  writeTrivyReports,
} from '../support/debian-images.js';
import { daemonUnavailableReason, startDaemon, type TestDaemon } from '../support/dockerd.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { describeRun, runCopa } from './copa-harness.js';

const skip = daemonUnavailableReason();
if (skip !== undefined) console.log(`# skipping the Docker engine test: ${skip}`);

describe(
  'copa patch without --push and a running Docker engine',
  { skip, timeout: 30 * 60_000 },
  () => {
    let registry: TestRegistry;
    let daemon: TestDaemon;
    let work: string;
    let source: string;

    before(async () => {
      const image = await buildDebianImageLayout();
      [registry, daemon] = await Promise.all([startRegistry(), startDaemon()]);
      work = await mkdtemp(join(tmpdir(), 'copa-e2e-daemon-'));
      source = `${registry.host}/demo/debian:bookworm`;
      await pushLayoutToRegistry(image, source);
      await writeTrivyReports({
        image,
        platforms: ['linux/amd64', 'linux/arm64'],
        outDir: join(work, 'reports'),
      });
    });

    after(async () => {
      await daemon?.stop();
      await registry?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    test('loads each patched platform and prints how to publish them', async () => {
      const ociDir = join(work, 'oci');
      const run = await runCopa(
        ['patch', '-i', source, '-r', join(work, 'reports'), '--oci-dir', ociDir],
        daemon.env,
      );
      assert.equal(run.code, 0, describeRun(run));

      for (const arch of ['amd64', 'arm64']) {
        const name = `${source}-patched-${arch}`;
        const inspected = execFileSync(
          'docker',
          ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', name],
          { env: daemon.env, encoding: 'utf8' },
        );
        assert.equal(inspected.trim(), `linux/${arch}`, `${name} is loaded`);
        assert.match(run.stderr, new RegExp(`docker push ${name.replace(/[.]/g, '\\.')}`));
      }
      assert.match(run.stderr, /docker buildx imagetools create --tag \S+:bookworm-patched /);
      const listed = execFileSync('docker', ['image', 'ls', '--format', '{{.Tag}}'], {
        env: daemon.env,
        encoding: 'utf8',
      });
      assert.ok(!listed.includes('patched-arm-v7'), 'the unpatched platform is not loaded');
    });
  },
);
