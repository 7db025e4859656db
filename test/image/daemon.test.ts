import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CopaError, isCopaError } from '../../src/errors.js';
import { imageFromDaemon, isDaemonReachable, loadIntoDaemon } from '../../src/image/daemon.js';
import { dockerArchiveStream, writeDockerArchive } from '../../src/image/docker-archive.js';
import { appendLayer } from '../../src/image/mutate.js';
import type { Image } from '../../src/image/types.js';
import { readMergedFiles } from '../../src/layer/read-merged-files.js';
import { writeLayer } from '../../src/layer/write-layer.js';
import { daemonUnavailableReason, startDaemon, type TestDaemon } from '../support/dockerd.js';
import { fixtureImage, textFile } from './fixture-image.js';

const skip = daemonUnavailableReason();
if (skip !== undefined) console.log(`# skipping daemon tests: ${skip}`);

describe('daemon', { skip }, () => {
  let work: string;
  let daemon: TestDaemon;
  let image: Image;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'copa-daemon-'));
    daemon = await startDaemon();
    const base = await fixtureImage({
      dir: work,
      layers: [[textFile('etc/os-release', 'ID=base\n')]],
    });
    const patch = await writeLayer([textFile('etc/os-release', 'ID=patched\n')], {
      compression: 'uncompressed',
      dir: work,
    });
    image = appendLayer(base, patch, { history: { created_by: 'copa' } });
  });

  after(async () => {
    await daemon?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('isDaemonReachable() says true for a running daemon and false for a missing CLI', async () => {
    assert.equal(await isDaemonReachable('docker', { env: daemon.env }), true);
    assert.equal(await isDaemonReachable('docker', { command: 'no-such-docker-cli' }), false);
  });

  it('loadIntoDaemon() loads an archive stream so that docker sees its layers', async () => {
    const loaded = await loadIntoDaemon(
      dockerArchiveStream([{ image, tags: ['copa.test/app:1-patched'] }]),
      {
        loader: 'docker',
        env: daemon.env,
      },
    );
    assert.deepEqual(loaded, ['copa.test/app:1-patched']);
    const inspected = execFileSync(
      'docker',
      ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'copa.test/app:1-patched'],
      {
        env: daemon.env,
      },
    ).toString();
    assert.deepEqual(JSON.parse(inspected), (await image.configFile()).rootfs.diff_ids);
  });

  it('imageFromDaemon() saves an image and reads its files', async () => {
    const archive = join(work, 'for-load.tar');
    await writeDockerArchive(archive, [{ image, tags: ['copa.test/saved:2'] }]);
    await loadIntoDaemon(archive, { loader: 'docker', env: daemon.env });
    const saved = await imageFromDaemon('copa.test/saved:2', {
      loader: 'docker',
      env: daemon.env,
      workDir: work,
    });
    const files = await readMergedFiles(await saved.layers(), (p) => p === 'etc/os-release');
    assert.equal(
      Buffer.from(files.get('etc/os-release')?.content ?? []).toString(),
      'ID=patched\n',
    );
    assert.deepEqual(await saved.rawConfigFile(), await image.rawConfigFile());
  });

  it("loadIntoDaemon() reports the failure of its input stream, not the CLI's", async () => {
    async function* failing() {
      yield Buffer.alloc(1024);
      throw new CopaError('DIGEST_MISMATCH', 'verifying blob "x": content differs');
    }
    await assert.rejects(loadIntoDaemon(failing(), { loader: 'docker', env: daemon.env }), (e) =>
      isCopaError(e, 'DIGEST_MISMATCH'),
    );
  });

  it('fails with DAEMON_ERROR for bad input and DAEMON_UNAVAILABLE without a CLI', async () => {
    const junk = join(work, 'junk.tar');
    await writeFile(junk, 'not a tar');
    await assert.rejects(loadIntoDaemon(junk, { loader: 'docker', env: daemon.env }), (e) =>
      isCopaError(e, 'DAEMON_ERROR'),
    );
    await assert.rejects(
      imageFromDaemon('copa.test/absent:1', { loader: 'docker', env: daemon.env, workDir: work }),
      (e) => isCopaError(e, 'DAEMON_ERROR'),
    );
    await assert.rejects(
      loadIntoDaemon(junk, { loader: 'docker', command: 'no-such-docker-cli' }),
      (e) => isCopaError(e, 'DAEMON_UNAVAILABLE'),
    );
  });
});
